import dns from 'node:dns';
import { syncBuiltinESMExports } from 'node:module';
import { isIP } from 'node:net';

/** Every name-resolving function of `node:dns` and `node:dns/promises` (what net.connect and fetch call too). */
const CALLBACK_FUNCTIONS = [
  'lookup',
  'lookupService',
  'resolve',
  'resolve4',
  'resolve6',
  'resolveAny',
  'resolveCname',
  'resolveCaa',
  'resolveMx',
  'resolveNaptr',
  'resolveNs',
  'resolvePtr',
  'resolveSoa',
  'resolveSrv',
  'resolveTxt',
  'reverse',
] as const;

export interface DnsSpy {
  /** The calls since the spy started, as `function(first argument)`. */
  readonly calls: readonly string[];
  /**
   * The calls for anything but an IP literal: `server.listen(port, '127.0.0.1')` itself calls `dns.lookup` on
   * its literal, which node answers in process without a resolver.
   */
  nameCalls(): readonly string[];
  /** Puts the real functions back. */
  stop(): void;
}

type AnyFunction = (...args: unknown[]) => unknown;

/**
 * Counts DNS calls made in this process: wraps the functions of `node:dns` and `dns.promises` (the module objects
 * that node's own net, http and fetch code call through) and updates the ESM named exports. Test-only.
 */
export function startDnsSpy(): DnsSpy {
  const calls: string[] = [];
  const names: string[] = [];
  const restores: (() => void)[] = [];
  const wrap = (target: Record<string, unknown>, name: string, prefix: string): void => {
    const original = target[name];
    if (typeof original !== 'function') return;
    const real = original as AnyFunction;
    target[name] = function spied(this: unknown, ...args: unknown[]): unknown {
      calls.push(`${prefix}${name}(${String(args[0])})`);
      if (isIP(String(args[0])) === 0) names.push(calls.at(-1) ?? '');
      return real.apply(this, args);
    };
    restores.push(() => (target[name] = real));
  };
  for (const name of CALLBACK_FUNCTIONS) {
    wrap(dns, name, 'dns.');
    wrap(dns.promises, name, 'dns.promises.');
  }
  syncBuiltinESMExports();
  return {
    calls,
    nameCalls: () => names,
    stop() {
      for (const restore of restores) restore();
      syncBuiltinESMExports();
    },
  };
}
