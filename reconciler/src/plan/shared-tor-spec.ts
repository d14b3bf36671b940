import type { PoolSpec, TorSettings } from '../fleet/fleet-types.js';
import type { SharedTorSpec } from './shared-tor-types.js';
import { sharedTorName } from './shared-tor-name.js';
import { hashableTorSettings, specHashOf } from './spec-hash.js';

/** Shared tor `index` of a packed pool, serving `proxies` (names) in this plan. */
export function buildSharedTorSpec(
  pool: PoolSpec,
  index: number,
  tor: TorSettings,
  sharedTorShape: string,
  proxies: readonly string[],
): SharedTorSpec {
  const name = sharedTorName(pool.name, index);
  return {
    name,
    pool: pool.name,
    index,
    tor,
    placement: pool.placement,
    proxies,
    specHash: sharedTorHash(name, pool, tor, sharedTorShape),
  };
}

/**
 * What reaches a shared tor: its name (torrc, container name), the tor settings, the shape of its unit
 * (`sharedTorShape`: the shared torrc template, the runtime, the torrc options) and its pool's placement when
 * set. Not its proxies, nor their ports, exits, mode, bind, count or proxiesPerTor: its controller sets those
 * at runtime, so adding, removing or changing a proxy, or packing more per tor, never replaces it.
 */
export function sharedTorHash(name: string, pool: PoolSpec, tor: TorSettings, sharedTorShape: string): string {
  return specHashOf({
    sharedTor: name,
    shape: sharedTorShape,
    tor: hashableTorSettings(tor),
    ...(pool.placement.constraints.length > 0 ? { placement: pool.placement.constraints } : {}),
  });
}

/**
 * PlanInput.sharedTorShape: a digest of what shapes every shared tor besides its own spec, the text of
 * templates/shared-torrc.tmpl, the runtime's name and the torrc options (MaxMemInQueues). A change replaces them all.
 */
export function sharedTorShapeOf(parts: {
  readonly template: string;
  readonly runtime: string;
  readonly torrc: unknown;
}): string {
  return specHashOf({ sharedTorTemplate: parts.template, runtime: parts.runtime, torrc: parts.torrc });
}
