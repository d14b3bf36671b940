import type { PoolSpec } from '../fleet/fleet-types.js';
import { inPoolGeo } from '../fleet/geo-match.js';
import type { EligibleExit } from '../nodes/eligible-exit.js';
import { groupBySlash16, type ExitGroup } from './exit-groups.js';
import type { ObservedProxy, ProxyExits, Shortfall } from './plan-types.js';
import { rotatingCountries } from './pool-exits.js';
import { bestCandidate, hash32 } from './rendezvous.js';

export interface ExitAssignments {
  /** Exits of every wanted proxy that got some, by proxy name. */
  readonly byProxy: ReadonlyMap<string, ProxyExits>;
  readonly shortfalls: readonly Shortfall[];
}

interface PoolCandidates {
  readonly pool: PoolSpec;
  readonly exits: readonly EligibleExit[];
  readonly exitHashes: readonly number[];
  readonly byFingerprint: ReadonlyMap<string, EligibleExit>;
  readonly groups: readonly ExitGroup[];
  readonly groupHashes: readonly number[];
  readonly groupByNetwork: ReadonlyMap<string, ExitGroup>;
}

export function proxyName(pool: string, index: number): string {
  return `${pool}-${index}`;
}

/**
 * Pins exits to proxies. No exit is shared across the fleet: a strict proxy takes one exit, a flexible
 * proxy one /16 group (whose exits no one else takes). Sticky: a proxy keeps the exit or group it runs
 * with while it stays eligible and free; only the others are (re)assigned, each to its best free
 * candidate by rendezvous hashing of its name, pools in fleet order.
 *
 * `avoided` exits (the egress probe saw them fail) stay candidates of last resort, never removed: a proxy
 * on an avoided exit (or a /16 holding one) moves only when a free candidate that is not avoided exists,
 * and otherwise keeps it; a new proxy takes an avoided candidate only when nothing else is free. So a
 * failing check never costs a pool its last candidate.
 */
export function assignExits(
  pools: readonly PoolSpec[],
  allExits: readonly EligibleExit[],
  observed: ReadonlyMap<string, ObservedProxy>,
  avoided: ReadonlySet<string> = new Set(),
): ExitAssignments {
  const claimedExits = new Set<string>();
  const claimedNetworks = new Set<string>();
  const byProxy = new Map<string, ProxyExits>();
  const candidates = pools.map((pool) => candidatesFor(pool, allExits));

  const claimExit = (name: string, exit: EligibleExit): void => {
    claimedExits.add(exit.fingerprint);
    byProxy.set(name, exitsOf([exit], null));
  };
  const claimGroup = (name: string, group: ExitGroup): void => {
    const members = group.exits.filter((exit) => !claimedExits.has(exit.fingerprint));
    claimedNetworks.add(group.network);
    for (const exit of members) claimedExits.add(exit.fingerprint);
    byProxy.set(name, exitsOf(members, group.network));
  };
  const release = (name: string): void => {
    const exits = byProxy.get(name);
    for (const fingerprint of exits?.fingerprints ?? []) claimedExits.delete(fingerprint);
    if (exits?.network) claimedNetworks.delete(exits.network);
    byProxy.delete(name);
  };
  const strictFree = (exit: EligibleExit): boolean =>
    !claimedExits.has(exit.fingerprint) && !claimedNetworks.has(exit.network);
  const groupFree = (group: ExitGroup): boolean =>
    !claimedNetworks.has(group.network) && group.exits.some((exit) => !claimedExits.has(exit.fingerprint));
  const trusted = (exit: EligibleExit): boolean => !avoided.has(exit.fingerprint);
  const groupTrusted = (group: ExitGroup): boolean => group.exits.every(trusted);
  /** The best free candidate that is not avoided, else (with `lastResort`) the best free one. */
  const bestExit = (c: PoolCandidates, hash: number, lastResort: boolean): EligibleExit | undefined =>
    bestCandidate(hash, c.exits, c.exitHashes, (e) => strictFree(e) && trusted(e)) ??
    (lastResort ? bestCandidate(hash, c.exits, c.exitHashes, strictFree) : undefined);
  const bestGroup = (c: PoolCandidates, hash: number, lastResort: boolean): ExitGroup | undefined =>
    bestCandidate(hash, c.groups, c.groupHashes, (g) => groupFree(g) && groupTrusted(g)) ??
    (lastResort ? bestCandidate(hash, c.groups, c.groupHashes, groupFree) : undefined);

  // 1. Sticky: strict proxies keep their exit, then flexible proxies their /16. Those on an avoided exit
  //    hold it for now (no one else may take it) and are looked at again in 2.
  const held: { c: PoolCandidates; name: string }[] = [];
  for (const c of candidates.filter((c) => c.pool.mode === 'strict')) {
    forEachProxy(c.pool, (name) => {
      const current = observed.get(name)?.exitFingerprints;
      const exit = current?.length === 1 ? c.byFingerprint.get(current[0] ?? '') : undefined;
      if (exit && strictFree(exit)) {
        claimExit(name, exit);
        if (!trusted(exit)) held.push({ c, name });
      }
    });
  }
  for (const c of candidates.filter((c) => c.pool.mode === 'flexible')) {
    forEachProxy(c.pool, (name) => {
      const network = observed
        .get(name)
        ?.exitFingerprints.map((fingerprint) => c.byFingerprint.get(fingerprint)?.network)
        .find((found) => found !== undefined);
      const group = network === undefined ? undefined : c.groupByNetwork.get(network);
      if (group && groupFree(group)) {
        claimGroup(name, group);
        if (!groupTrusted(group)) held.push({ c, name });
      }
    });
  }

  // 2. A proxy on an avoided exit moves only to a free candidate that is not avoided; else it keeps its own.
  for (const { c, name } of held) {
    const hash = hash32(name);
    if (c.pool.mode === 'strict') {
      const exit = bestExit(c, hash, false);
      if (exit) {
        release(name);
        claimExit(name, exit);
      }
    } else {
      const group = bestGroup(c, hash, false);
      if (group) {
        release(name);
        claimGroup(name, group);
      }
    }
  }

  // 3. Everyone else, in fleet order. Claims only grow, so once a pool finds nothing free it stops looking.
  for (const c of candidates) {
    let exhausted = false;
    forEachProxy(c.pool, (name) => {
      if (c.pool.mode === 'rotating') {
        if (c.exits.length > 0) byProxy.set(name, rotatingExits(c.pool));
      } else if (!byProxy.has(name) && !exhausted) {
        const hash = hash32(name);
        if (c.pool.mode === 'strict') {
          const exit = bestExit(c, hash, true);
          if (exit) claimExit(name, exit);
          else exhausted = true;
        } else {
          const group = bestGroup(c, hash, true);
          if (group) claimGroup(name, group);
          else exhausted = true;
        }
      }
    });
  }

  const shortfalls: Shortfall[] = [];
  for (const c of candidates) {
    const own = new Set<string>();
    let planned = 0;
    forEachProxy(c.pool, (name) => {
      const exits = byProxy.get(name);
      if (exits) planned++;
      for (const fingerprint of exits?.fingerprints ?? []) own.add(fingerprint);
    });
    if (planned < c.pool.count) {
      const takenByOthers = c.exits.filter((e) => claimedExits.has(e.fingerprint) && !own.has(e.fingerprint)).length;
      shortfalls.push(shortfallOf(c, planned, takenByOthers));
    }
  }
  return { byProxy, shortfalls };
}

function candidatesFor(pool: PoolSpec, allExits: readonly EligibleExit[]): PoolCandidates {
  const exits = inPoolGeo(allExits, pool.geo, pool.exclude);
  const groups = pool.mode === 'flexible' ? groupBySlash16(exits) : [];
  return {
    pool,
    exits,
    exitHashes: exits.map((exit) => hash32(exit.fingerprint)),
    byFingerprint: new Map(exits.map((exit) => [exit.fingerprint, exit])),
    groups,
    groupHashes: groups.map((group) => hash32(group.network)),
    groupByNetwork: new Map(groups.map((group) => [group.network, group])),
  };
}

function forEachProxy(pool: PoolSpec, visit: (name: string) => void): void {
  for (let i = 0; i < pool.count; i++) visit(proxyName(pool.name, i));
}

function exitsOf(exits: readonly EligibleExit[], network: string | null): ProxyExits {
  return {
    fingerprints: exits.map((exit) => exit.fingerprint),
    addresses: exits.map((exit) => exit.address),
    countries: [...new Set(exits.map((exit) => exit.country))].sort(),
    network,
  };
}

function rotatingExits(pool: PoolSpec): ProxyExits {
  return { fingerprints: [], addresses: [], countries: rotatingCountries(pool.geo, pool.exclude), network: null };
}

function shortfallOf(c: PoolCandidates, planned: number, takenByOthers: number): Shortfall {
  const { pool } = c;
  const geo = Array.isArray(pool.geo) ? pool.geo.join(', ') : String(pool.geo);
  const available = pool.mode === 'flexible' ? c.groups.length : c.exits.length;
  const unit = pool.mode === 'flexible' ? '/16 exit groups' : 'eligible exits';
  const detail =
    pool.mode === 'rotating'
      ? `there are no eligible exits in ${geo}`
      : `${geo} has ${available} ${unit}${takenByOthers > 0 ? `; ${takenByOthers} of its exits are pinned by other pools` : ''} (exits are never shared across the fleet)`;
  return {
    pool: pool.name,
    mode: pool.mode,
    wanted: pool.count,
    planned,
    available,
    message: `pool ${pool.name} wants ${pool.count} ${pool.mode} proxies but only ${planned} can be placed: ${detail}`,
  };
}
