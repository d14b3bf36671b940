import type { ObservedProxy, ProxySpec } from '../plan/plan-types.js';
import type { IgnoredObject, ProxyRuntime } from '../runtime/proxy-runtime.js';
import type { TorrcPaths } from '../torrc/render-torrc.js';

/**
 * A ProxyRuntime that keeps its proxies in memory, records every call as one line (`list`,
 * `preflight us-0`, `create us-0`, `remove us-0 forget` / `remove us-0 keep`), and can be told to fail
 * a given call with a given error. For tests of what applyPlan and reconcilePass ask of a runtime; the
 * real runtimes have their own tests against Docker and tor.
 */
export class RecordingRuntime implements ProxyRuntime {
  readonly name = 'docker';
  readonly calls: string[] = [];
  private readonly proxies: ObservedProxy[];
  private readonly failing = new Map<string, unknown>();

  constructor(observed: readonly ObservedProxy[] = []) {
    this.proxies = [...observed];
  }

  /** Makes the call recorded as `call` (e.g. `preflight us-0`) throw `error`, every time. */
  failOn(call: string, error: unknown): this {
    this.failing.set(call, error);
    return this;
  }

  /** Makes a call that was told to fail succeed again (the operator fixed it). */
  heal(call: string): this {
    this.failing.delete(call);
    return this;
  }

  /** The proxies it holds now, by name and id (`us-0:c1`), sorted. */
  holding(): string[] {
    return this.proxies.map((p) => `${p.name}:${p.id}`).sort();
  }

  list(): Promise<ObservedProxy[]> {
    return this.record('list', () => [...this.proxies]);
  }

  ignored(): readonly IgnoredObject[] {
    return [];
  }

  /** Reports no events: the tests enqueue passes themselves. */
  watch(): () => void {
    return () => undefined;
  }

  hostDataDirectory(proxy: string): string {
    return `/nonexistent/state/${proxy}`;
  }

  torrcPaths(spec: ProxySpec): TorrcPaths {
    return {
      dataDirectory: `/var/lib/tor/${spec.name}`,
      controlSocket: `/var/lib/tor/${spec.name}/control`,
      geoipFile: null,
    };
  }

  preflight(spec: ProxySpec): Promise<void> {
    return this.record(`preflight ${spec.name}`, () => undefined);
  }

  create(spec: ProxySpec, _torrc: string, revision: string): Promise<ObservedProxy> {
    return this.record(`create ${spec.name}`, () => {
      const proxy: ObservedProxy = {
        name: spec.name,
        pool: spec.pool,
        id: `new-${spec.name}`,
        state: 'running',
        specHash: spec.specHash,
        exitFingerprints: spec.exits.fingerprints,
        revision,
        startedAt: '2026-12-01T00:00:00.000Z',
      };
      this.proxies.push(proxy);
      return proxy;
    });
  }

  remove(proxy: ObservedProxy, { forget }: { forget: boolean }): Promise<void> {
    return this.record(`remove ${proxy.name} ${forget ? 'forget' : 'keep'}`, () => {
      const at = this.proxies.findIndex((p) => p.id === proxy.id);
      if (at >= 0) this.proxies.splice(at, 1);
    });
  }

  private async record<T>(call: string, action: () => T): Promise<T> {
    this.calls.push(call);
    // Each call yields once, as a real one does, so concurrent changes interleave.
    await new Promise((resolve) => setImmediate(resolve));
    if (this.failing.has(call)) throw this.failing.get(call);
    return action();
  }
}
