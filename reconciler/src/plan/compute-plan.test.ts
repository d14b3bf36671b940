import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Fleet, PoolSpec } from '../fleet/fleet-types.js';
import { Secret } from '../fleet/secret.js';
import type { EligibleExit } from '../nodes/eligible-exit.js';
import { testExit as exit, testFleet, testPool } from '../testing/fleet-fixtures.js';
import { sharedEligibleExits } from '../testing/shared-exits.js';
import { computePlan, type PlanInput } from './compute-plan.js';
import type { ObservedProxy, Plan, PlannedChange } from './plan-types.js';

/** US: 1-4; DE: 5-8 (5 and 6 share a /16); NL: 9. */
const EXITS: readonly EligibleExit[] = [
  exit(1, 'US'),
  exit(2, 'US'),
  exit(3, 'US'),
  exit(4, 'US'),
  exit(5, 'DE', '10.50.0.0/16'),
  exit(6, 'DE', '10.50.0.0/16'),
  exit(7, 'DE'),
  exit(8, 'DE'),
  exit(9, 'NL'),
];

const pool = testPool;
const fleet = (...pools: PoolSpec[]): Fleet => testFleet(pools);

const US = pool('us', { count: 2, basePort: 20000 });
const WORLD = pool('world', { geo: 'NON_US', mode: 'flexible', count: 2, basePort: 20100 });
const EU = pool('eu', { geo: ['DE', 'NL'], mode: 'rotating', count: 1, basePort: 20200, rotateEverySeconds: 600 });

function plan(over: Partial<PlanInput> = {}): Plan {
  return computePlan({
    fleet: fleet(US, WORLD, EU),
    revision: 'r1',
    exits: EXITS,
    observed: [],
    containerShape: 'shape-1',
    ...over,
  });
}

/** What the runtime would report after applying `p` (every wanted proxy running as planned). */
function observedAfter(p: Plan, state: ObservedProxy['state'] = 'running'): ObservedProxy[] {
  return p.changes
    .filter((c) => c.after)
    .map((c, i) => ({
      name: c.proxy,
      pool: c.pool,
      id: `c${i}`,
      state,
      specHash: c.after?.specHash ?? '',
      exitFingerprints: c.after?.exits.fingerprints ?? [],
      revision: p.revision,
      startedAt: null,
    }));
}

const summary = (p: Plan): string[] => p.changes.map((c) => `${c.action} ${c.proxy} ${c.reason}`);
const byName = (p: Plan, name: string): PlannedChange | undefined => p.changes.find((c) => c.proxy === name);

describe('computePlan: a fresh fleet', () => {
  const fresh = plan();
  test('creates every proxy, in fleet order, on its port', () => {
    assert.deepEqual(summary(fresh), [
      'create us-0 new',
      'create us-1 new',
      'create world-0 new',
      'create world-1 new',
      'create eu-0 new',
    ]);
    assert.deepEqual(
      fresh.changes.map((c) => c.after?.port),
      [20000, 20001, 20100, 20101, 20200],
    );
    assert.equal(fresh.formatVersion, 1);
    assert.deepEqual(fresh.shortfalls, []);
  });
  test('strict proxies get one US exit each, never the same', () => {
    const pinned = ['us-0', 'us-1'].map((n) => byName(fresh, n)?.after?.exits);
    assert.ok(pinned.every((e) => e?.fingerprints.length === 1 && e.countries[0] === 'US' && e.network === null));
    assert.notEqual(pinned[0]?.fingerprints[0], pinned[1]?.fingerprints[0]);
  });
  test('flexible proxies get disjoint /16 groups of NON_US exits', () => {
    const groups = ['world-0', 'world-1'].map((n) => byName(fresh, n)?.after?.exits);
    assert.notEqual(groups[0]?.network, groups[1]?.network);
    for (const g of groups) assert.ok(g && g.fingerprints.length >= 1 && !g.countries.includes('US'));
    const fives = groups.find((g) => g?.network === '10.50.0.0/16');
    if (fives) assert.deepEqual(fives.fingerprints, [exit(5, 'DE').fingerprint, exit(6, 'DE').fingerprint]);
  });
  test('rotating proxies are not pinned; they carry their countries', () => {
    assert.deepEqual(byName(fresh, 'eu-0')?.after?.exits, {
      fingerprints: [],
      addresses: [],
      countries: ['DE', 'NL'],
      network: null,
    });
    assert.equal(byName(fresh, 'eu-0')?.after?.rotateEverySeconds, 600);
  });
  test('is deterministic, whatever the order of the exits', () => {
    assert.deepEqual(plan(), fresh);
    assert.deepEqual(plan({ exits: [...EXITS].reverse() }), fresh);
  });
});

describe('computePlan: against running proxies', () => {
  const first = plan();
  const running = observedAfter(first);

  const CASES: readonly { name: string; input: Partial<PlanInput>; expect: string[] }[] = [
    {
      name: 'nothing changed: all noop',
      input: { observed: running },
      expect: [
        'noop us-0 unchanged',
        'noop us-1 unchanged',
        'noop world-0 unchanged',
        'noop world-1 unchanged',
        'noop eu-0 unchanged',
      ],
    },
    {
      name: 'a stopped container is replaced',
      input: { observed: running.map((o) => (o.name === 'us-1' ? { ...o, state: 'stopped' as const } : o)) },
      expect: [
        'noop us-0 unchanged',
        'replace us-1 container_dead',
        'noop world-0 unchanged',
        'noop world-1 unchanged',
        'noop eu-0 unchanged',
      ],
    },
    {
      name: 'a new image replaces every proxy',
      input: {
        observed: running,
        fleet: { ...fleet(US, WORLD, EU), tor: { ...fleet().tor, image: 'torfleet/tor:0.4.10' } },
      },
      expect: [
        'replace us-0 spec_changed',
        'replace us-1 spec_changed',
        'replace world-0 spec_changed',
        'replace world-1 spec_changed',
        'replace eu-0 spec_changed',
      ],
    },
    {
      name: 'a new container shape (template) replaces every proxy',
      input: { observed: running, containerShape: 'shape-2' },
      expect: [
        'replace us-0 spec_changed',
        'replace us-1 spec_changed',
        'replace world-0 spec_changed',
        'replace world-1 spec_changed',
        'replace eu-0 spec_changed',
      ],
    },
    {
      name: 'a removed pool is deleted; the others untouched',
      input: { observed: running, fleet: fleet(US, EU) },
      expect: [
        'noop us-0 unchanged',
        'noop us-1 unchanged',
        'noop eu-0 unchanged',
        'delete world-0 removed_from_fleet',
        'delete world-1 removed_from_fleet',
      ],
    },
    {
      name: 'a scaled-down pool loses its highest indexes',
      input: { observed: running, fleet: fleet({ ...US, count: 1 }, WORLD, EU) },
      expect: [
        'noop us-0 unchanged',
        'noop world-0 unchanged',
        'noop world-1 unchanged',
        'noop eu-0 unchanged',
        'delete us-1 removed_from_fleet',
      ],
    },
    {
      name: 'a second container for a proxy is a duplicate; the running one stays',
      input: { observed: [...running, { ...(running[0] as ObservedProxy), id: 'a-older', state: 'stopped' as const }] },
      expect: [
        'noop us-0 unchanged',
        'noop us-1 unchanged',
        'noop world-0 unchanged',
        'noop world-1 unchanged',
        'noop eu-0 unchanged',
        'delete us-0 duplicate',
      ],
    },
    {
      name: 'a new proxy credential replaces every proxy, through its digest',
      input: {
        observed: running,
        fleet: {
          ...fleet(US, WORLD, EU),
          tor: { ...fleet().tor, httpsProxy: { address: '192.0.2.1:3128', auth: new Secret('a:b') } },
        },
      },
      expect: [
        'replace us-0 spec_changed',
        'replace us-1 spec_changed',
        'replace world-0 spec_changed',
        'replace world-1 spec_changed',
        'replace eu-0 spec_changed',
      ],
    },
  ];
  for (const c of CASES) {
    test(c.name, () => {
      assert.deepEqual(summary(plan(c.input)), c.expect);
    });
  }

  test('a strict proxy keeps its exit even when rendezvous would rank another higher', () => {
    const us0 = byName(first, 'us-0')?.after?.exits.fingerprints[0];
    const other = EXITS.find(
      (e) =>
        e.country === 'US' &&
        e.fingerprint !== us0 &&
        e.fingerprint !== byName(first, 'us-1')?.after?.exits.fingerprints[0],
    );
    assert.ok(other);
    const moved = running.map((o) => (o.name === 'us-0' ? { ...o, exitFingerprints: [other.fingerprint] } : o));
    const next = plan({ observed: moved });
    assert.deepEqual(byName(next, 'us-0')?.after?.exits.fingerprints, [other.fingerprint]);
  });

  test('an exit that leaves: only its proxy is re-pinned, to a free eligible exit', () => {
    const us0 = byName(first, 'us-0')?.after?.exits.fingerprints[0];
    const next = plan({ observed: running, exits: EXITS.filter((e) => e.fingerprint !== us0) });
    assert.deepEqual(summary(next), [
      'replace us-0 exit_gone',
      'noop us-1 unchanged',
      'noop world-0 unchanged',
      'noop world-1 unchanged',
      'noop eu-0 unchanged',
    ]);
    const repinned = byName(next, 'us-0')?.after?.exits.fingerprints[0];
    assert.ok(repinned && repinned !== us0 && repinned !== byName(first, 'us-1')?.after?.exits.fingerprints[0]);
  });

  test('a flexible group that gains an exit is re-pinned to the same /16', () => {
    const world = ['world-0', 'world-1'].map((n) => byName(first, n)?.after?.exits.network);
    const grown = [...EXITS, exit(10, 'DE', world[0] ?? '')];
    const next = plan({ observed: running, exits: grown });
    const change = byName(next, 'world-0');
    assert.deepEqual(
      [change?.action, change?.reason, change?.after?.exits.network],
      ['replace', 'exits_changed', world[0]],
    );
    assert.equal(byName(next, 'world-1')?.action, 'noop');
  });

  test('not enough exits: creates what it can and says how many were wanted and available', () => {
    const next = plan({ fleet: fleet(pool('us', { count: 6 })) });
    assert.equal(next.changes.length, 4);
    assert.deepEqual(next.shortfalls, [
      {
        pool: 'us',
        mode: 'strict',
        wanted: 6,
        planned: 4,
        available: 4,
        message:
          'pool us wants 6 strict proxies but only 4 can be placed: US has 4 eligible exits (exits are never shared across the fleet)',
      },
    ]);
  });

  test('a proxy whose exit left with no free replacement is removed, and the shortfall says so', () => {
    const onlyTwo = EXITS.filter(
      (e) => e.country !== 'US' || [byName(first, 'us-1')?.after?.exits.fingerprints[0]].includes(e.fingerprint),
    );
    const next = plan({ observed: running, exits: onlyTwo });
    assert.deepEqual(summary(next).slice(0, 2), ['delete us-0 no_eligible_exit', 'noop us-1 unchanged']);
    assert.deepEqual([next.shortfalls[0]?.wanted, next.shortfalls[0]?.planned], [2, 1]);
  });

  test('strict and flexible pools never share an exit, across pools', () => {
    const next = plan({
      fleet: fleet(
        pool('a', { geo: ['DE'], count: 1 }),
        pool('b', { geo: ['DE'], mode: 'flexible', count: 3, basePort: 21000 }),
      ),
    });
    const used = next.changes.flatMap((c) => c.after?.exits.fingerprints ?? []);
    assert.equal(new Set(used).size, used.length);
  });
});

describe('computePlan on the real 2022 exits', () => {
  const exits = sharedEligibleExits();
  const big = fleet(
    pool('us', { count: 200, basePort: 20000 }),
    pool('world', { geo: 'NON_US', exclude: ['UA', 'CH'], mode: 'flexible', count: 150, basePort: 21000 }),
    pool('eu', { geo: ['DE', 'NL', 'FR'], count: 300, basePort: 22000 }),
  );
  const first = computePlan({ fleet: big, revision: 'r1', exits, observed: [], containerShape: 's' });

  test('1428 eligible exits; no exit is pinned twice', () => {
    assert.equal(exits.length, 1428);
    const used = first.changes.flatMap((c) => c.after?.exits.fingerprints ?? []);
    assert.equal(new Set(used).size, used.length);
  });

  test('churn: remove 10% of the exits, and only the proxies pinned to them move', () => {
    const removed = new Set(exits.filter((_, i) => i % 10 === 3).map((e) => e.fingerprint));
    const next = computePlan({
      fleet: big,
      revision: 'r2',
      exits: exits.filter((e) => !removed.has(e.fingerprint)),
      observed: observedAfter(first),
      containerShape: 's',
    });
    for (const change of next.changes) {
      const before = byName(first, change.proxy)?.after?.exits;
      const lost = before?.fingerprints.filter((fp) => removed.has(fp)) ?? [];
      if (change.action === 'noop') {
        assert.equal(lost.length, 0, `${change.proxy} kept a removed exit`);
      } else if (change.action === 'delete') {
        // Its exit left and every other eligible exit of its geo is taken: the shortfall reports it.
        assert.deepEqual([change.reason, lost.length > 0], ['no_eligible_exit', true], change.proxy);
      } else if (change.after?.mode === 'strict') {
        assert.deepEqual([change.action, change.reason, lost.length], ['replace', 'exit_gone', 1], change.proxy);
      } else {
        // A flexible proxy moves only when its group lost members; it stays in its /16 while the group lives.
        assert.ok(lost.length > 0, `${change.proxy} moved without losing an exit`);
        if (change.reason === 'exits_changed') assert.equal(change.after?.exits.network, before?.network);
      }
    }
    const strictLost = first.changes.filter(
      (c) => c.after?.mode === 'strict' && removed.has(c.after.exits.fingerprints[0] ?? ''),
    ).length;
    const strictMoved = next.changes.filter((c) => c.pool !== 'world' && c.action !== 'noop').length;
    assert.equal(strictMoved, strictLost);
    assert.ok(strictLost > 0);
    const eu = next.shortfalls.find((s) => s.pool === 'eu');
    const euBefore = first.shortfalls.find((s) => s.pool === 'eu')?.planned ?? 300;
    assert.equal(eu?.planned, euBefore - next.changes.filter((c) => c.pool === 'eu' && c.action === 'delete').length);
  });
});
