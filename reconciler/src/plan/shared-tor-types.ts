import type { PlacementSpec, TorSettings } from '../fleet/fleet-types.js';
import type { ObservedSharedTor, PlanAction } from './plan-types.js';

/**
 * One shared tor of a packed pool: a runtime unit (container, process or swarm service) like a proxy's own tor,
 * but with no SocksPort of its own; its controller adds one per proxy it serves.
 */
export interface SharedTorSpec {
  /** `POOL-torK` (see shared-tor-name.ts). */
  readonly name: string;
  readonly pool: string;
  /** K: it serves the pool's proxies K*N to K*N+N-1 (N = proxiesPerTor). */
  readonly index: number;
  readonly tor: TorSettings;
  /** Swarm placement constraints of its pool: its proxies listen where it runs. */
  readonly placement: PlacementSpec;
  /** Names of the proxies it serves in this plan (those of its range that got exits), in index order. */
  readonly proxies: readonly string[];
  /** Hash of what reaches this tor (see shared-tor-spec.ts); never of `proxies`: a proxy change never replaces it. */
  readonly specHash: string;
}

export type SharedTorChangeReason =
  | 'new' // wanted, none runs
  | 'unchanged' // wanted, the one running matches
  | 'spec_changed' // its spec hash differs (tor settings, shared template, runtime shape, placement)
  | 'container_dead' // it is not running
  | 'no_proxies' // its pool still packs, but no proxy index of its range is wanted (scaled down, proxiesPerTor raised)
  | 'unpacked' // its pool no longer packs
  | 'removed_from_fleet' // its pool is gone
  | 'duplicate'; // a second one of the same name

export interface SharedTorChange {
  readonly action: PlanAction;
  readonly tor: string;
  readonly pool: string;
  readonly reason: SharedTorChangeReason;
  readonly before: ObservedSharedTor | null;
  readonly after: SharedTorSpec | null;
}
