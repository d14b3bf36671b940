import { isIPv4, isIPv6 } from 'node:net';
import { TorfleetError } from '../errors.js';

/** One proxy served by a shared tor (see spec/packing.md): its own SocksPort, its own circuits. */
export interface PackedProxy {
  /** `POOL-i`. */
  readonly name: string;
  /** >= 0, unique within its shared tor: the SocksPort's SessionGroup, which STREAM events carry. */
  readonly sessionGroup: number;
  /** SocksPort address, `127.0.0.1:9050` or `[::1]:9050`. */
  readonly listen: string;
  /** Candidate exit fingerprints (40 hex upper): strict 1, flexible its /16 group, rotating all eligible. */
  readonly exits: readonly string[];
  /** Rotating: build a new circuit (random exit of `exits`) this often; else null. */
  readonly rotateEverySeconds: number | null;
}

export interface PackedProxyStatus {
  readonly circuitBuilt: boolean;
  readonly circuitId: string | null;
  /** Fingerprint of the exit its current circuit uses. */
  readonly exit: string | null;
  /** Currently open streams on its circuits. */
  readonly attachedStreams: number;
  /** Why it has no circuit (exit down, build failed ...), else null. */
  readonly lastError: string | null;
  /** ISO time the current circuit was built. */
  readonly since: string | null;
}

/** What the controller reports as it works; metrics (packing-metrics.ts) and tests listen here. */
export interface PackingEvents {
  circuitBuilt(proxy: string, seconds: number): void;
  circuitFailed(proxy: string, reason: string): void;
  circuitRenewed(proxy: string): void;
  streamAttached(proxy: string, seconds: number): void;
  /** A stream closed instead of attached; `proxy` null when its session group is no proxy's. */
  streamRefused(proxy: string | null, reason: string): void;
}

export const NO_EVENTS: PackingEvents = {
  circuitBuilt: () => undefined,
  circuitFailed: () => undefined,
  circuitRenewed: () => undefined,
  streamAttached: () => undefined,
  streamRefused: () => undefined,
};

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const FINGERPRINT = /^[0-9A-F]{40}$/;
const MAX_SESSION_GROUP = 2 ** 31 - 1;

/**
 * Checks a shared tor's proxy list before any of it reaches tor: every value ends up in a SETCONF line or decides
 * which circuit a stream may use. Throws a FLEET_INVALID error naming the proxy and what to fix.
 */
export function validatePackedProxies(proxies: readonly PackedProxy[]): void {
  const names = new Set<string>();
  const groups = new Map<number, string>();
  const listens = new Map<string, string>();
  for (const proxy of proxies) {
    const problem = (what: string): TorfleetError =>
      new TorfleetError('FLEET_INVALID', 'stalled', `packed proxy ${JSON.stringify(proxy.name)}: ${what}`);
    if (typeof proxy.name !== 'string' || !NAME.test(proxy.name)) {
      throw problem('a name is 1-128 letters, digits, `_`, `.` or `-`, starting with a letter or digit');
    }
    if (names.has(proxy.name)) throw problem('the name is given twice');
    names.add(proxy.name);
    if (!Number.isInteger(proxy.sessionGroup) || proxy.sessionGroup < 0 || proxy.sessionGroup > MAX_SESSION_GROUP) {
      throw problem(
        `sessionGroup must be an integer from 0 to ${MAX_SESSION_GROUP}, not ${String(proxy.sessionGroup)}`,
      );
    }
    const sameGroup = groups.get(proxy.sessionGroup);
    if (sameGroup !== undefined) throw problem(`sessionGroup ${proxy.sessionGroup} is also ${sameGroup}'s`);
    groups.set(proxy.sessionGroup, proxy.name);
    if (!isListenAddress(proxy.listen)) {
      throw problem(
        `listen must be an IP literal and a port (127.0.0.1:9050, [::1]:9050), not ${JSON.stringify(proxy.listen)}`,
      );
    }
    const sameListen = listens.get(proxy.listen);
    if (sameListen !== undefined) throw problem(`listen ${proxy.listen} is also ${sameListen}'s`);
    listens.set(proxy.listen, proxy.name);
    const exits: readonly unknown[] = Array.isArray(proxy.exits) ? proxy.exits : [];
    if (exits.length === 0) throw problem('it needs at least one exit');
    const bad = exits.find((exit) => typeof exit !== 'string' || !FINGERPRINT.test(exit));
    if (bad !== undefined)
      throw problem(`an exit is a fingerprint of 40 upper-case hex digits, not ${JSON.stringify(bad)}`);
    const rotate = proxy.rotateEverySeconds;
    if (rotate !== null && (!Number.isInteger(rotate) || rotate < 1)) {
      throw problem(`rotateEverySeconds must be a positive integer or null, not ${String(rotate)}`);
    }
  }
}

/** `IPv4:port` or `[IPv6]:port`, port 1-65535: what a SocksPort value may start with, nothing else. */
export function isListenAddress(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|(\d{1,3}(?:\.\d{1,3}){3})):(\d{1,5})$/.exec(value);
  if (!match) return false;
  const port = Number(match[3]);
  if (port < 1 || port > 65535) return false;
  return match[1] !== undefined ? isIPv6(match[1]) : isIPv4(match[2] ?? '');
}
