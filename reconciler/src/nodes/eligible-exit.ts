import type { GeoCategory } from '../fleet/fleet-types.js';
import type { RefusalReason } from './snapshot-guard.js';

/** An exit relay a pool may use: running, flag Exit, not BadExit, in the pool's geo. */
export interface EligibleExit {
  readonly fingerprint: string;
  readonly nickname: string;
  /** The IPv4 address its exit traffic leaves from (exit address when known, else OR address). */
  readonly address: string;
  readonly country: string;
  /** `a.b.0.0/16` of `address`. */
  readonly network: string;
}

/** Eligible exits that share one IPv4 /16: the unit a flexible proxy is pinned to. */
export interface ExitGroup {
  readonly network: string;
  readonly exits: readonly EligibleExit[];
}

export interface NodeStats {
  /** Eligible exits (running, Exit, not BadExit) by geo category; exits of unknown country count in neither. */
  readonly exits: Readonly<Record<GeoCategory, number>>;
  /** Running relays in the last snapshot. */
  readonly relays: number;
  /** ISO 8601; null before the first successful refresh. */
  readonly relaysPublished: string | null;
  /** ISO 8601 time of the last successful refresh or not-modified check. */
  readonly refreshedAt: string | null;
  /** True when relaysPublished is missing or older than the allowed age. */
  readonly stale: boolean;
  /** The latest snapshot refused since the stored one was accepted; absent when none was. */
  readonly lastRefusal?: SnapshotRefusal;
}

/** A snapshot the guard refused; the stored snapshot stayed as it was. */
export interface SnapshotRefusal {
  /** ISO 8601 time of the refusal. */
  readonly at: string;
  readonly reason: RefusalReason;
  /** Why, in words (lowercase, one line). */
  readonly message: string;
  /** relays_published of the refused snapshot (ISO 8601). */
  readonly relaysPublished: string | null;
}

/** Groups exits by /16, groups and members in a stable order (network, then fingerprint). */
export function groupBySlash16(exits: readonly EligibleExit[]): ExitGroup[] {
  const groups = new Map<string, EligibleExit[]>();
  for (const exit of exits) {
    const members = groups.get(exit.network);
    if (members) members.push(exit);
    else groups.set(exit.network, [exit]);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => compareNetworks(a, b))
    .map(([network, members]) => ({
      network,
      exits: members.sort((x, y) => (x.fingerprint < y.fingerprint ? -1 : x.fingerprint > y.fingerprint ? 1 : 0)),
    }));
}

function compareNetworks(a: string, b: string): number {
  const [a1 = 0, a2 = 0] = a.split('.').map(Number);
  const [b1 = 0, b2 = 0] = b.split('.').map(Number);
  return a1 - b1 || a2 - b2;
}
