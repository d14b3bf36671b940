import type { Fleet, PoolSpec, TorSettings } from '../fleet/fleet-types.js';
import type { EligibleExit } from '../nodes/eligible-exit.js';
import { testExit as exit, testFleet, testPool } from './fleet-fixtures.js';
import { computePlan, type PlanInput } from '../plan/compute-plan.js';
import type { ObservedProxy, ObservedSharedTor, Plan } from '../plan/plan-types.js';

/** US: 1-12; DE: 20-23 (20 and 21 share a /16); NL: 30. */
export const EXITS: readonly EligibleExit[] = [
  ...Array.from({ length: 12 }, (_, i) => exit(i + 1, 'US')),
  exit(20, 'DE', '10.200.0.0/16'),
  exit(21, 'DE', '10.200.0.0/16'),
  exit(22, 'DE'),
  exit(23, 'DE'),
  exit(30, 'NL'),
];

/** A strict US pool of 7 proxies from port 20000, packed 3 to a tor: tors 0 (0-2), 1 (3-5), 2 (6). */
export const PACKED: PoolSpec = testPool('us', { count: 7, basePort: 20000, packing: { proxiesPerTor: 3 } });

export function packedFleet(pools: readonly PoolSpec[] = [PACKED], tor: Partial<TorSettings> = {}): Fleet {
  return testFleet(pools, tor);
}

export function packedPlan(over: Partial<PlanInput> = {}): Plan {
  return computePlan({
    fleet: packedFleet(),
    revision: 'r1',
    exits: EXITS,
    observed: [],
    containerShape: 'shape-1',
    sharedTorShape: 'shared-shape-1',
    observedSharedTors: [],
    ...over,
  });
}

/** What the runtime would report after applying `p`: every wanted proxy and shared tor running as planned. */
export function observedAfter(p: Plan): { observed: ObservedProxy[]; observedSharedTors: ObservedSharedTor[] } {
  return {
    observed: p.changes.flatMap((c, i) =>
      c.after
        ? [
            {
              name: c.proxy,
              pool: c.pool,
              id: `p${i}`,
              state: 'running' as const,
              specHash: c.after.specHash,
              exitFingerprints: c.after.exits.fingerprints,
              revision: p.revision,
              startedAt: null,
            },
          ]
        : [],
    ),
    observedSharedTors: p.sharedTors.flatMap((c, i) =>
      c.after
        ? [{ name: c.tor, pool: c.pool, id: `t${i}`, state: 'running' as const, specHash: c.after.specHash }]
        : [],
    ),
  };
}

export const torSummary = (p: Plan): string[] => p.sharedTors.map((c) => `${c.action} ${c.tor} ${c.reason}`);
export const proxySummary = (p: Plan): string[] => p.changes.map((c) => `${c.action} ${c.proxy} ${c.reason}`);
