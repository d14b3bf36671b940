import type { PoolSpec, TorSettings } from '../fleet/fleet-types.js';
import { compare, pickPrimaries } from './pick-primaries.js';
import type { ObservedSharedTor, ProxySpec } from './plan-types.js';
import { sharedTorCount, sharedTorName } from './shared-tor-name.js';
import { buildSharedTorSpec } from './shared-tor-spec.js';
import type { SharedTorChange, SharedTorChangeReason, SharedTorSpec } from './shared-tor-types.js';

export interface SharedTorPlanInput {
  readonly pools: readonly PoolSpec[];
  readonly tor: TorSettings;
  readonly sharedTorShape: string;
  /** The proxies this plan wants (packed ones name their tor). */
  readonly proxies: readonly ProxySpec[];
  readonly observed: readonly ObservedSharedTor[];
}

/**
 * The shared tors' changes. Shared tor K of a pool packed N to a tor is wanted while its range of proxy
 * indices (K*N to K*N+N-1) holds one below `count`, even when none of those proxies got an exit this pass: a
 * blink of the node database restarts no tor. Wanted ones in fleet order; deletions last, by name then id.
 */
export function planSharedTors(input: SharedTorPlanInput): SharedTorChange[] {
  const { primary, duplicates } = pickPrimaries(input.observed);
  const served = proxiesByTor(input.proxies);
  const changes: SharedTorChange[] = [];
  const wanted = new Set<string>();
  for (const pool of input.pools) {
    if (!pool.packing) continue;
    for (let index = 0; index < sharedTorCount(pool.count, pool.packing.proxiesPerTor); index++) {
      const name = sharedTorName(pool.name, index);
      const after = buildSharedTorSpec(pool, index, input.tor, input.sharedTorShape, served.get(name) ?? []);
      wanted.add(name);
      changes.push(changeFor(primary.get(after.name) ?? null, after));
    }
  }
  const poolsByName = new Map(input.pools.map((pool) => [pool.name, pool]));
  const deletions: SharedTorChange[] = [];
  for (const before of primary.values()) {
    if (!wanted.has(before.name)) deletions.push(deletion(before, unwantedReason(poolsByName.get(before.pool))));
  }
  for (const before of duplicates) deletions.push(deletion(before, 'duplicate'));
  deletions.sort((a, b) => compare(a.tor, b.tor) || compare(a.before?.id ?? '', b.before?.id ?? ''));
  return [...changes, ...deletions];
}

function changeFor(before: ObservedSharedTor | null, after: SharedTorSpec): SharedTorChange {
  const base = { tor: after.name, pool: after.pool, before, after };
  if (!before) return { ...base, action: 'create', reason: 'new' };
  if (before.specHash !== after.specHash) return { ...base, action: 'replace', reason: 'spec_changed' };
  // `pending` (a swarm service waiting for a node) is left alone, as a pending proxy is.
  if (before.state === 'stopped') return { ...base, action: 'replace', reason: 'container_dead' };
  return { ...base, action: 'noop', reason: 'unchanged' };
}

function unwantedReason(pool: PoolSpec | undefined): SharedTorChangeReason {
  if (!pool) return 'removed_from_fleet';
  return pool.packing ? 'no_proxies' : 'unpacked';
}

function deletion(before: ObservedSharedTor, reason: SharedTorChangeReason): SharedTorChange {
  return { action: 'delete', tor: before.name, pool: before.pool, reason, before, after: null };
}

function proxiesByTor(proxies: readonly ProxySpec[]): Map<string, string[]> {
  const byTor = new Map<string, string[]>();
  for (const proxy of proxies) {
    if (!proxy.packing) continue;
    const names = byTor.get(proxy.packing.tor);
    if (names) names.push(proxy.name);
    else byTor.set(proxy.packing.tor, [proxy.name]);
  }
  return byTor;
}
