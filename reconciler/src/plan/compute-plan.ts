import type { Fleet, PoolSpec, TorSettings } from '../fleet/fleet-types.js';
import { geoCategoryOf } from '../fleet/geo-match.js';
import type { EligibleExit } from '../nodes/eligible-exit.js';
import { assignExits, proxyName } from './assign-exits.js';
import {
  PLAN_FORMAT_VERSION,
  type ChangeReason,
  type ObservedProxy,
  type ObservedSharedTor,
  type Plan,
  type PlannedChange,
  type ProxyExits,
  type ProxySpec,
} from './plan-types.js';
import { packedProxyHash } from './packed-proxy-hash.js';
import { compare, pickPrimaries } from './pick-primaries.js';
import { planSharedTors } from './plan-shared-tors.js';
import { sharedTorIndexOf, sharedTorName } from './shared-tor-name.js';
import { hashableTorSettings, specHashOf } from './spec-hash.js';

export interface PlanInput {
  readonly fleet: Fleet;
  /** The fleet's git commit (or file digest) being applied. */
  readonly revision: string;
  /** Every eligible exit of the node database (running, Exit, not BadExit, country known). */
  readonly exits: readonly EligibleExit[];
  readonly observed: readonly ObservedProxy[];
  /** A digest of what else shapes every container (torrc template, runtime options): a change replaces them all. */
  readonly containerShape: string;
  /**
   * Exits the egress probe saw fail (fingerprints): kept as candidates of last resort. A proxy on one moves
   * only when another eligible exit is free; otherwise it keeps it (never deleted, never a shortfall for it).
   */
  readonly avoidedExits?: ReadonlySet<string>;
  /** Shared tors (packed pools) the runtime runs; absent: none. */
  readonly observedSharedTors?: readonly ObservedSharedTor[];
  /**
   * A digest of what else shapes every shared tor (templates/shared-torrc.tmpl, runtime, torrc options), as
   * `sharedTorShapeOf` makes it; required when a pool is packed. Not `containerShape`: a change of the proxies'
   * template must not replace the shared tors.
   */
  readonly sharedTorShape?: string;
}

/**
 * The plan: what must change so the running proxies match the fleet. Pure: no I/O, no clock, no
 * randomness; the same input always gives the same plan.
 */
export function computePlan(input: PlanInput): Plan {
  const { primary, duplicates } = pickPrimaries(input.observed);
  const sharedTorShape = sharedTorShapeFor(input);
  const avoided = input.avoidedExits ?? new Set<string>();
  const assignments = assignExits(input.fleet.pools, input.exits, primary, avoided);
  const eligible = new Set(input.exits.map((exit) => exit.fingerprint));
  const changes: PlannedChange[] = [];
  const wanted = new Set<string>();
  const specs: ProxySpec[] = [];

  for (const pool of input.fleet.pools) {
    const digest = poolDigest(pool, input.fleet.tor, input.containerShape);
    for (let index = 0; index < pool.count; index++) {
      const name = proxyName(pool.name, index);
      wanted.add(name);
      const before = primary.get(name) ?? null;
      const exits = assignments.byProxy.get(name);
      if (!exits) {
        if (before)
          changes.push({
            action: 'delete',
            proxy: name,
            pool: pool.name,
            reason: 'no_eligible_exit',
            before,
            after: null,
          });
        continue;
      }
      const after = buildSpec(pool, index, exits, input.fleet.tor, digest);
      specs.push(after);
      changes.push(changeFor(name, pool.name, before, after, eligible, avoided));
    }
  }
  const deletions: PlannedChange[] = [];
  for (const before of primary.values()) {
    if (!wanted.has(before.name)) deletions.push(deletion(before, 'removed_from_fleet'));
  }
  for (const before of duplicates) deletions.push(deletion(before, 'duplicate'));
  deletions.sort((a, b) => compare(a.proxy, b.proxy) || compare(a.before?.id ?? '', b.before?.id ?? ''));

  return {
    formatVersion: PLAN_FORMAT_VERSION,
    revision: input.revision,
    changes: [...changes, ...deletions],
    sharedTors: planSharedTors({
      pools: input.fleet.pools,
      tor: input.fleet.tor,
      sharedTorShape,
      proxies: specs,
      observed: input.observedSharedTors ?? [],
    }),
    shortfalls: assignments.shortfalls,
  };
}

function changeFor(
  name: string,
  pool: string,
  before: ObservedProxy | null,
  after: ProxySpec,
  eligible: ReadonlySet<string>,
  avoided: ReadonlySet<string>,
): PlannedChange {
  if (!before) return { action: 'create', proxy: name, pool, reason: 'new', before, after };
  let reason: ChangeReason;
  if (before.specHash === after.specHash) {
    if (before.state !== 'stopped') return { action: 'noop', proxy: name, pool, reason: 'unchanged', before, after };
    reason = 'container_dead';
  } else if (before.exitFingerprints.some((fingerprint) => !eligible.has(fingerprint))) {
    reason = 'exit_gone';
  } else if (
    !sameMembers(before.exitFingerprints, after.exits.fingerprints) &&
    before.exitFingerprints.some((fingerprint) => avoided.has(fingerprint))
  ) {
    reason = 'exit_failing';
  } else if (!sameMembers(before.exitFingerprints, after.exits.fingerprints)) {
    reason = after.mode === 'flexible' ? 'exits_changed' : 'exit_gone';
  } else {
    reason = 'spec_changed';
  }
  return { action: 'replace', proxy: name, pool, reason, before, after };
}

function deletion(before: ObservedProxy, reason: ChangeReason): PlannedChange {
  return { action: 'delete', proxy: before.name, pool: before.pool, reason, before, after: null };
}

/** The shared tors' shape; a packed pool without one is the caller's bug, refused rather than hashed wrongly. */
function sharedTorShapeFor(input: PlanInput): string {
  if (input.sharedTorShape !== undefined) return input.sharedTorShape;
  const packed = input.fleet.pools.find((pool) => pool.packing);
  if (packed) {
    throw new Error(`computePlan: pool ${packed.name} is packed, but PlanInput.sharedTorShape is missing`);
  }
  return '';
}

/**
 * The part of the spec hash every proxy of a pool shares: the container shape, tor settings (the
 * credential only as its digest) and the pool fields that reach a torrc. Not `count` or `geo`: scaling a
 * pool, or a geo change that keeps a proxy's exit, restarts nothing.
 */
export function poolDigest(pool: PoolSpec, tor: TorSettings, containerShape: string): string {
  return specHashOf({
    shape: containerShape,
    tor: hashableTorSettings(tor),
    pool: { name: pool.name, mode: pool.mode, bind: pool.bind, rotateEverySeconds: pool.rotateEverySeconds },
    // Only when set: the hashes of every fleet without placement stay as they were (nothing restarts on upgrade).
    ...(pool.placement.constraints.length > 0 ? { placement: pool.placement.constraints } : {}),
  });
}

export function buildSpec(
  pool: PoolSpec,
  index: number,
  exits: ProxyExits,
  tor: TorSettings,
  digest: string,
): ProxySpec {
  const name = proxyName(pool.name, index);
  const port = pool.basePort + index;
  // Fingerprints are what tor is pinned to; a rotating proxy's countries reach its torrc too.
  const countries = pool.mode === 'rotating' ? exits.countries.join(',') : '';
  const packing = pool.packing && {
    tor: sharedTorName(pool.name, sharedTorIndexOf(index, pool.packing.proxiesPerTor)),
    sessionGroup: index,
  };
  return {
    name,
    pool: pool.name,
    index,
    geo: pool.geo,
    exclude: pool.exclude,
    geoCategory: geoCategoryOf(pool.geo),
    mode: pool.mode,
    bind: pool.bind,
    port,
    exits,
    rotateEverySeconds: pool.rotateEverySeconds,
    placement: pool.placement,
    tor,
    packing,
    // Unpacked: exactly the hash of before packing existed, so no existing proxy restarts on upgrade.
    specHash: packing
      ? packedProxyHash(pool, name, port, exits, packing)
      : specHashOf([digest, name, port, exits.fingerprints.join(','), countries]),
  };
}

function sameMembers(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const set = new Set(a);
  return b.every((item) => set.has(item));
}
