import type { GeoCategory, GeoSelector, PlacementSpec, PoolMode, TorSettings } from '../fleet/fleet-types.js';
import type { SharedTorChange } from './shared-tor-types.js';

/**
 * Bumped whenever the JSON shape of a Plan changes incompatibly; consumers of `plan --json` check it. Added
 * fields do not bump it (`ProxySpec.packing`, `Plan.sharedTors`): every existing field keeps its name, type and
 * meaning, and a reader that ignores unknown keys reads a packed fleet's plan as before.
 */
export const PLAN_FORMAT_VERSION = 1;

/** Where a proxy's traffic may leave the Tor network. */
export interface ProxyExits {
  /** Pinned exit fingerprints: one (strict), a /16 group (flexible), none (rotating: any exit of the geo). */
  readonly fingerprints: readonly string[];
  readonly addresses: readonly string[];
  /** Countries of the pinned exits, or the countries a rotating proxy may use (empty for NON_US: any but US). */
  readonly countries: readonly string[];
  /** `a.b.0.0/16` of a flexible proxy's group; null otherwise. */
  readonly network: string | null;
}

/** Everything that shapes one proxy's container. */
export interface ProxySpec {
  /** `POOL-i` */
  readonly name: string;
  readonly pool: string;
  readonly index: number;
  readonly geo: GeoSelector;
  readonly exclude: readonly string[];
  readonly geoCategory: GeoCategory;
  readonly mode: PoolMode;
  readonly bind: string;
  readonly port: number;
  readonly exits: ProxyExits;
  readonly rotateEverySeconds: number | null;
  /** Swarm placement constraints of its pool (the swarm runtime passes them on; others ignore them). */
  readonly placement: PlacementSpec;
  readonly tor: TorSettings;
  /** The shared tor serving it (a packed pool), else null: it has a tor of its own. */
  readonly packing: ProxyPacking | null;
  /**
   * Unpacked: hash of everything above that reaches the container, plus the container shape (template, runtime
   * options). Packed: hash of what reaches its SocksPort and circuit only (see packed-proxy-hash.ts).
   */
  readonly specHash: string;
}

/** Where a packed proxy is served: its shared tor, and the SessionGroup of its SocksPort there. */
export interface ProxyPacking {
  /** The SharedTorSpec name. */
  readonly tor: string;
  /** The proxy's index: unique within its tor (indeed within its pool), >= 0. */
  readonly sessionGroup: number;
}

/** `pending`: a swarm service no node can take yet (its task waits for the scheduler: see `reason`). */
export type ObservedState = 'running' | 'restarting' | 'stopped' | 'pending';

/** A shared tor (packed pools) as the runtime sees it, read from its container's (process's, service's) labels. */
export interface ObservedSharedTor {
  readonly name: string;
  readonly pool: string;
  readonly id: string;
  readonly state: ObservedState;
  readonly specHash: string;
}

/** A proxy as the runtime sees it, read from its container's labels and state. */
export interface ObservedProxy {
  readonly name: string;
  readonly pool: string;
  readonly id: string;
  readonly state: ObservedState;
  readonly specHash: string;
  /** Exit fingerprints it is pinned to (label `torfleet.exits`). */
  readonly exitFingerprints: readonly string[];
  readonly revision: string;
  readonly startedAt: string | null;
  /** The swarm node running it (its hostname); absent for the docker and process runtimes (this host). */
  readonly node?: string | null;
  /**
   * The address its node is dialled at, set only for a swarm task on another node than the reconciler's
   * engine (see nodeAddressOf); absent or null: it runs on this host.
   */
  readonly nodeAddress?: string | null;
  /** Why it is not running, in the runtime's words (a pending task's scheduler message); absent when unknown. */
  readonly reason?: string | null;
  /**
   * A packed proxy: the shared tor serving it (`POOL-torK`); its `id` and `state` are that tor's. Absent or
   * null: a proxy with a tor of its own.
   */
  readonly sharedTor?: string | null;
}

export type PlanAction = 'create' | 'replace' | 'delete' | 'noop';

export type ChangeReason =
  | 'new' // wanted, no container
  | 'unchanged' // wanted, container matches
  | 'spec_changed' // the container's spec hash differs (fleet file, tor settings, template)
  | 'exit_gone' // a pinned exit left the eligible set; re-pinned
  | 'exits_changed' // a flexible proxy's /16 group gained or lost exits
  | 'exit_failing' // its exit failed egress checks and another eligible exit was free; re-pinned
  | 'container_dead' // the container is not running
  | 'removed_from_fleet' // no longer wanted (pool removed or scaled down)
  | 'duplicate' // a second container for the same proxy
  | 'no_eligible_exit'; // its exit left the eligible set and no other eligible exit is free

export interface PlannedChange {
  readonly action: PlanAction;
  readonly proxy: string;
  readonly pool: string;
  readonly reason: ChangeReason;
  readonly before: ObservedProxy | null;
  readonly after: ProxySpec | null;
}

/** A pool that could not get all its proxies: a condition for the operator, not an error. */
export interface Shortfall {
  readonly pool: string;
  readonly mode: PoolMode;
  readonly wanted: number;
  readonly planned: number;
  /** Eligible exits (strict, rotating) or /16 groups of them (flexible) in the pool's geo, taken or not. */
  readonly available: number;
  readonly message: string;
}

export interface Plan {
  readonly formatVersion: typeof PLAN_FORMAT_VERSION;
  readonly revision: string;
  /** Every wanted proxy and every observed one, in fleet order, deletions last. */
  readonly changes: readonly PlannedChange[];
  /** Every wanted shared tor and every observed one, in fleet order, deletions last; empty without packed pools. */
  readonly sharedTors: readonly SharedTorChange[];
  readonly shortfalls: readonly Shortfall[];
}

export function hasChanges(plan: Plan): boolean {
  return (
    plan.changes.some((change) => change.action !== 'noop') ||
    plan.sharedTors.some((change) => change.action !== 'noop')
  );
}
