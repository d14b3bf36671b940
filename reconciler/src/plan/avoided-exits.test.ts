import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { PoolSpec } from '../fleet/fleet-types.js';
import type { EligibleExit } from '../nodes/eligible-exit.js';
import { testExit as exit, testFleet, testPool } from '../testing/fleet-fixtures.js';
import { computePlan } from './compute-plan.js';
import type { ObservedProxy, Plan } from './plan-types.js';

/**
 * Exits the egress probe saw fail are avoided, never removed: a proxy on one is re-pinned only when another
 * eligible exit is free, and otherwise keeps it (issue 8 item 10: one failed start must not delete a pool's
 * only proxy for the 30-minute quarantine).
 */

/** US: 1-3; DE: 5 and 6 share 10.50.0.0/16, 7 is alone in its /16. */
const ALL = new Map<number, EligibleExit>(
  [
    exit(1, 'US'),
    exit(2, 'US'),
    exit(3, 'US'),
    exit(5, 'DE', '10.50.0.0/16'),
    exit(6, 'DE', '10.50.0.0/16'),
    exit(7, 'DE'),
  ].map((e) => [Number.parseInt(e.fingerprint, 16), e]),
);
const exits = (...ns: number[]): EligibleExit[] => ns.map((n) => ALL.get(n) as EligibleExit);
const fp = (n: number): string => (ALL.get(n) as EligibleExit).fingerprint;

const STRICT = (count: number): PoolSpec => testPool('us', { count });
const FLEXIBLE = (count: number): PoolSpec =>
  testPool('world', { geo: 'NON_US', mode: 'flexible', count, basePort: 20100 });

function running(plan: Plan): ObservedProxy[] {
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
            revision: plan.revision,
            startedAt: null,
          },
        ]
      : [],
  );
}

interface Case {
  readonly name: string;
  readonly pools: readonly PoolSpec[];
  /** The exits eligible when the proxies were first placed (empty: nothing runs yet). */
  readonly start: readonly number[];
  /** The exits eligible now, and those of them the probe set aside. */
  readonly now: readonly number[];
  readonly avoided: readonly number[];
  readonly expect: readonly string[];
  /** The exits each proxy is pinned to afterwards. */
  readonly pinned: Readonly<Record<string, readonly number[]>>;
}

const CASES: readonly Case[] = [
  {
    name: 'strict: the only candidate is avoided: the proxy keeps it',
    pools: [STRICT(1)],
    start: [1],
    now: [1],
    avoided: [1],
    expect: ['noop us-0 unchanged'],
    pinned: { 'us-0': [1] },
  },
  {
    name: 'strict: another eligible exit is free: re-pinned to it',
    pools: [STRICT(1)],
    start: [1],
    now: [1, 2],
    avoided: [1],
    expect: ['replace us-0 exit_failing'],
    pinned: { 'us-0': [2] },
  },
  {
    name: 'strict: every other exit is pinned by a proxy that runs: kept, and the other keeps its own',
    pools: [STRICT(2)],
    start: [1, 2],
    now: [1, 2],
    avoided: [1],
    expect: ['noop us-0 unchanged', 'noop us-1 unchanged'],
    pinned: {},
  },
  {
    name: 'strict: the only free exits are avoided too: kept (a move would gain nothing)',
    pools: [STRICT(1)],
    start: [1],
    now: [1, 2],
    avoided: [1, 2],
    expect: ['noop us-0 unchanged'],
    pinned: { 'us-0': [1] },
  },
  {
    name: 'strict: a new proxy takes a free exit that is not avoided first',
    pools: [STRICT(1)],
    start: [],
    now: [1, 2],
    avoided: [1],
    expect: ['create us-0 new'],
    pinned: { 'us-0': [2] },
  },
  {
    name: 'strict: a new proxy takes an avoided exit when it is the last one (no shortfall)',
    pools: [STRICT(1)],
    start: [],
    now: [1],
    avoided: [1],
    expect: ['create us-0 new'],
    pinned: { 'us-0': [1] },
  },
  {
    name: 'flexible: the only /16 group is avoided: the proxy keeps it',
    pools: [FLEXIBLE(1)],
    start: [5, 6],
    now: [5, 6],
    avoided: [5, 6],
    expect: ['noop world-0 unchanged'],
    pinned: { 'world-0': [5, 6] },
  },
  {
    name: 'flexible: another /16 group is free: re-pinned to it',
    pools: [FLEXIBLE(1)],
    start: [5, 6],
    now: [5, 6, 7],
    avoided: [5, 6],
    expect: ['replace world-0 exit_failing'],
    pinned: { 'world-0': [7] },
  },
  {
    name: 'flexible: the other group is taken by a running proxy: both keep theirs',
    pools: [FLEXIBLE(2)],
    start: [5, 6, 7],
    now: [5, 6, 7],
    avoided: [5, 6],
    expect: ['noop world-0 unchanged', 'noop world-1 unchanged'],
    pinned: {},
  },
];

describe('computePlan: avoided exits are a last resort, never a deletion', () => {
  for (const c of CASES) {
    test(c.name, () => {
      const fleet = testFleet(c.pools);
      const input = { fleet, revision: 'r1', containerShape: 'shape' };
      const observed =
        c.start.length > 0 ? running(computePlan({ ...input, exits: exits(...c.start), observed: [] })) : [];
      const plan = computePlan({
        ...input,
        exits: exits(...c.now),
        observed,
        avoidedExits: new Set(c.avoided.map(fp)),
      });
      assert.deepEqual(
        plan.changes.map((change) => `${change.action} ${change.proxy} ${change.reason}`),
        c.expect,
      );
      assert.deepEqual(plan.shortfalls, []);
      for (const [proxy, pinned] of Object.entries(c.pinned)) {
        const after = plan.changes.find((change) => change.proxy === proxy)?.after;
        assert.deepEqual(after?.exits.fingerprints, pinned.map(fp), proxy);
      }
      // Pure and deterministic: the same input gives the same plan.
      assert.deepEqual(
        computePlan({ ...input, exits: exits(...c.now).reverse(), observed, avoidedExits: new Set(c.avoided.map(fp)) }),
        plan,
      );
    });
  }

  test('without avoided exits the plan is what it always was', () => {
    const input = { fleet: testFleet([STRICT(2), FLEXIBLE(1)]), revision: 'r1', containerShape: 's', observed: [] };
    const all = exits(1, 2, 3, 5, 6, 7);
    assert.deepEqual(
      computePlan({ ...input, exits: all, avoidedExits: new Set() }),
      computePlan({ ...input, exits: all }),
    );
  });
});
