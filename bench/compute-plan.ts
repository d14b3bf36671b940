/**
 * computePlan budgets (issue 3): 1,000 strict + flexible proxies over the 1,438 real exits of the shared
 * 2022 consensus, p50 < 20 ms; 10,000 rotating proxies < 100 ms; the curve for N = 10 ... 10,000.
 */
import { performance } from 'node:perf_hooks';
import type { Fleet, PoolSpec } from '../reconciler/src/fleet/fleet-types.js';
import { computePlan, type PlanInput } from '../reconciler/src/plan/compute-plan.js';
import type { ObservedProxy, Plan } from '../reconciler/src/plan/plan-types.js';
import { testFleet, testPool } from '../reconciler/src/testing/fleet-fixtures.js';
import { sharedEligibleExits } from '../reconciler/src/testing/shared-exits.js';

const RUNS = 21;

const fleetOf = (pools: PoolSpec[]): Fleet => testFleet(pools);

function pool(name: string, mode: PoolSpec['mode'], geo: PoolSpec['geo'], count: number, basePort: number): PoolSpec {
  return testPool(name, { mode, geo, count, basePort });
}

/** Half strict (split US / NON_US), half flexible NON_US. */
function mixedFleet(n: number): Fleet {
  const strict = Math.ceil(n / 2);
  return fleetOf([
    pool('us', 'strict', 'US', Math.ceil(strict / 2), 20000),
    pool('world', 'strict', 'NON_US', Math.floor(strict / 2), 30000),
    pool('flex', 'flexible', 'NON_US', n - strict, 40000),
  ]);
}

function observedAfter(plan: Plan): ObservedProxy[] {
  return plan.changes.flatMap((c, i) =>
    c.after
      ? [
          {
            name: c.proxy,
            pool: c.pool,
            id: `c${i}`,
            state: 'running' as const,
            specHash: c.after.specHash,
            exitFingerprints: c.after.exits.fingerprints,
            revision: 'r',
            startedAt: null,
          },
        ]
      : [],
  );
}

function time(input: PlanInput): { p50: number; p95: number; plan: Plan } {
  let plan = computePlan(input); // warm-up
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    plan = computePlan(input);
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return { p50: times[Math.floor(RUNS / 2)] ?? NaN, p95: times[Math.floor(RUNS * 0.95)] ?? NaN, plan };
}

const f = (n: number): string => n.toFixed(2);

export function benchComputePlan(): void {
  const exits = sharedEligibleExits();
  console.log(`\n## computePlan over ${exits.length} eligible exits of the shared 2022 consensus`);
  console.log(`p50 / p95 of ${RUNS} runs after one warm-up, in one process\n`);
  console.log(
    '| proxies | strict+flexible, fresh ms (p50 / p95) | strict+flexible, all running ms | placed | rotating, fresh ms | rotating, all running ms |',
  );
  console.log('|---|---|---|---|---|---|');
  for (const n of [10, 100, 1000, 3000, 10000]) {
    const mixed = { fleet: mixedFleet(n), revision: 'r', exits, observed: [], containerShape: 's' };
    const fresh = time(mixed);
    const steady = time({ ...mixed, observed: observedAfter(fresh.plan) });
    const placed = fresh.plan.changes.filter((c) => c.after).length;
    const rotatingInput = {
      fleet: fleetOf([pool('rot', 'rotating', 'NON_US', n, 20000)]),
      revision: 'r',
      exits,
      observed: [],
      containerShape: 's',
    };
    const rotFresh = time(rotatingInput);
    const rotSteady = time({ ...rotatingInput, observed: observedAfter(rotFresh.plan) });
    console.log(
      `| ${n} | ${f(fresh.p50)} / ${f(fresh.p95)} | ${f(steady.p50)} / ${f(steady.p95)} | ${placed} | ${f(rotFresh.p50)} / ${f(rotFresh.p95)} | ${f(rotSteady.p50)} / ${f(rotSteady.p95)} |`,
    );
  }
  console.log(
    '\n"placed": strict and flexible proxies never share an exit, so beyond ~1,400 the fleet is short of exits (a shortfall, not an error).',
  );
}
