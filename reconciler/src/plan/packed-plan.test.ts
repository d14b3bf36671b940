import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { PoolSpec } from '../fleet/fleet-types.js';
import { Secret } from '../fleet/secret.js';
import { testPool } from '../testing/fleet-fixtures.js';
import {
  EXITS,
  observedAfter,
  PACKED,
  packedFleet,
  packedPlan,
  proxySummary,
  torSummary,
} from '../testing/packed-plan-fixture.js';
import { computePlan } from './compute-plan.js';
import { hasChanges, type Plan } from './plan-types.js';

const proxy = (p: Plan, name: string) => p.changes.find((c) => c.proxy === name);
const sharedTor = (p: Plan, name: string) => p.sharedTors.find((c) => c.tor === name);
const torHash = (p: Plan, name: string): string | undefined => sharedTor(p, name)?.after?.specHash;

describe('packed pools: which shared tor serves which proxy', () => {
  const fresh = packedPlan();
  test('proxy i is served by shared tor floor(i / N), in session group i', () => {
    assert.deepEqual(
      fresh.changes.map((c) => [c.proxy, c.after?.packing]),
      [
        ['us-0', { tor: 'us-tor0', sessionGroup: 0 }],
        ['us-1', { tor: 'us-tor0', sessionGroup: 1 }],
        ['us-2', { tor: 'us-tor0', sessionGroup: 2 }],
        ['us-3', { tor: 'us-tor1', sessionGroup: 3 }],
        ['us-4', { tor: 'us-tor1', sessionGroup: 4 }],
        ['us-5', { tor: 'us-tor1', sessionGroup: 5 }],
        ['us-6', { tor: 'us-tor2', sessionGroup: 6 }],
      ],
    );
  });
  test('the shared tors are created, each listing the proxies it serves', () => {
    assert.deepEqual(torSummary(fresh), ['create us-tor0 new', 'create us-tor1 new', 'create us-tor2 new']);
    assert.deepEqual(
      fresh.sharedTors.map((c) => [c.after?.index, c.after?.pool, c.after?.proxies]),
      [
        [0, 'us', ['us-0', 'us-1', 'us-2']],
        [1, 'us', ['us-3', 'us-4', 'us-5']],
        [2, 'us', ['us-6']],
      ],
    );
    assert.ok(hasChanges(fresh));
  });
  test('packed proxies keep everything else: names, ports, one exit each, never shared', () => {
    assert.deepEqual(
      proxySummary(fresh),
      [0, 1, 2, 3, 4, 5, 6].map((i) => `create us-${i} new`),
    );
    assert.deepEqual(
      fresh.changes.map((c) => c.after?.port),
      [20000, 20001, 20002, 20003, 20004, 20005, 20006],
    );
    const exits = fresh.changes.map((c) => c.after?.exits.fingerprints ?? []);
    assert.ok(exits.every((e) => e.length === 1));
    assert.equal(new Set(exits.flat()).size, 7);
  });
  test('an unpacked pool has no packing and no shared tor', () => {
    const p = packedPlan({ fleet: packedFleet([testPool('plain', { count: 2, basePort: 21000 })]) });
    assert.deepEqual(
      p.changes.map((c) => c.after?.packing),
      [null, null],
    );
    assert.deepEqual(p.sharedTors, []);
  });
  test('a pool of 0 proxies has no shared tor; one packed wider than its count has one', () => {
    const zero = packedPlan({ fleet: packedFleet([{ ...PACKED, count: 0 }]) });
    assert.deepEqual(zero.sharedTors, []);
    const wide = packedPlan({ fleet: packedFleet([{ ...PACKED, packing: { proxiesPerTor: 1000 } }]) });
    assert.deepEqual(torSummary(wide), ['create us-tor0 new']);
    assert.equal(wide.sharedTors[0]?.after?.proxies.length, 7);
  });
  test('is deterministic, whatever the order of the exits or the observed units', () => {
    assert.deepEqual(packedPlan({ exits: [...EXITS].reverse() }), fresh);
    const running = observedAfter(fresh);
    const again = packedPlan(running);
    const reversed = packedPlan({
      observed: [...running.observed].reverse(),
      observedSharedTors: [...running.observedSharedTors].reverse(),
    });
    assert.deepEqual(reversed, again);
  });
});

describe('packed pools against what runs', () => {
  const first = packedPlan();
  const running = observedAfter(first);
  const CASES: readonly { name: string; pools?: PoolSpec[]; tors: string[]; proxies?: string[] }[] = [
    {
      name: 'nothing changed: every proxy and shared tor is a noop',
      tors: ['noop us-tor0 unchanged', 'noop us-tor1 unchanged', 'noop us-tor2 unchanged'],
      proxies: [0, 1, 2, 3, 4, 5, 6].map((i) => `noop us-${i} unchanged`),
    },
    {
      name: 'scaled up: only the new proxies and the new tor are created',
      pools: [{ ...PACKED, count: 10 }],
      tors: ['noop us-tor0 unchanged', 'noop us-tor1 unchanged', 'noop us-tor2 unchanged', 'create us-tor3 new'],
      proxies: [
        ...[0, 1, 2, 3, 4, 5, 6].map((i) => `noop us-${i} unchanged`),
        'create us-7 new',
        'create us-8 new',
        'create us-9 new',
      ],
    },
    {
      name: 'scaled down: tors left without a proxy go, the others stay',
      pools: [{ ...PACKED, count: 2 }],
      tors: ['noop us-tor0 unchanged', 'delete us-tor1 no_proxies', 'delete us-tor2 no_proxies'],
      proxies: [
        'noop us-0 unchanged',
        'noop us-1 unchanged',
        ...[2, 3, 4, 5, 6].map((i) => `delete us-${i} removed_from_fleet`),
      ],
    },
    {
      name: 'more proxies per tor: the first tor stays and serves them all, its proxies stay',
      pools: [{ ...PACKED, packing: { proxiesPerTor: 10 } }],
      tors: ['noop us-tor0 unchanged', 'delete us-tor1 no_proxies', 'delete us-tor2 no_proxies'],
      proxies: [
        ...[0, 1, 2].map((i) => `noop us-${i} unchanged`),
        ...[3, 4, 5, 6].map((i) => `replace us-${i} spec_changed`),
      ],
    },
    {
      name: 'unpacked: its shared tors go, its proxies are replaced by proxies with a tor of their own',
      pools: [{ ...PACKED, packing: null }],
      tors: ['delete us-tor0 unpacked', 'delete us-tor1 unpacked', 'delete us-tor2 unpacked'],
      proxies: [0, 1, 2, 3, 4, 5, 6].map((i) => `replace us-${i} spec_changed`),
    },
    {
      name: 'the pool removed: its shared tors go',
      pools: [],
      tors: [
        'delete us-tor0 removed_from_fleet',
        'delete us-tor1 removed_from_fleet',
        'delete us-tor2 removed_from_fleet',
      ],
    },
  ];
  for (const c of CASES) {
    test(c.name, () => {
      const p = packedPlan({ ...running, ...(c.pools ? { fleet: packedFleet(c.pools) } : {}) });
      assert.deepEqual(torSummary(p), c.tors);
      if (c.proxies) assert.deepEqual(proxySummary(p), c.proxies);
    });
  }
  test('nothing changed: no changes', () => {
    assert.equal(hasChanges(packedPlan(running)), false);
  });
  test('a pool packed now: its running proxies are replaced, its shared tors created', () => {
    const unpacked = packedPlan({ fleet: packedFleet([{ ...PACKED, packing: null }]) });
    const p = packedPlan(observedAfter(unpacked));
    assert.deepEqual(torSummary(p), ['create us-tor0 new', 'create us-tor1 new', 'create us-tor2 new']);
    assert.deepEqual(
      proxySummary(p),
      [0, 1, 2, 3, 4, 5, 6].map((i) => `replace us-${i} spec_changed`),
    );
    // Each keeps its exit: packing moves no proxy to another exit.
    assert.deepEqual(
      p.changes.map((c) => c.after?.exits.fingerprints),
      unpacked.changes.map((c) => c.after?.exits.fingerprints),
    );
  });
  test('a stopped shared tor is replaced; a pending one (swarm) is left alone', () => {
    const [tor0, tor1, tor2] = running.observedSharedTors;
    assert.ok(tor0 && tor1 && tor2);
    const p = packedPlan({
      ...running,
      observedSharedTors: [{ ...tor0, state: 'stopped' }, { ...tor1, state: 'pending' }, tor2],
    });
    assert.deepEqual(torSummary(p), [
      'replace us-tor0 container_dead',
      'noop us-tor1 unchanged',
      'noop us-tor2 unchanged',
    ]);
  });
  test('a second shared tor of one name is a duplicate: the running one stays, the other goes', () => {
    const [tor0] = running.observedSharedTors;
    assert.ok(tor0);
    const p = packedPlan({
      ...running,
      observedSharedTors: [...running.observedSharedTors, { ...tor0, id: 'a-first', state: 'stopped' }],
    });
    assert.deepEqual(torSummary(p), [
      'noop us-tor0 unchanged',
      'noop us-tor1 unchanged',
      'noop us-tor2 unchanged',
      'delete us-tor0 duplicate',
    ]);
    assert.equal(p.sharedTors[3]?.before?.id, 'a-first');
  });
  test('a shared tor whose exits all left stays up, serving no proxy until they return', () => {
    const p = packedPlan({ ...running, exits: EXITS.filter((e) => e.country !== 'US') });
    assert.deepEqual(torSummary(p), ['noop us-tor0 unchanged', 'noop us-tor1 unchanged', 'noop us-tor2 unchanged']);
    assert.deepEqual(
      p.sharedTors.map((c) => c.after?.proxies),
      [[], [], []],
    );
    assert.ok(p.changes.every((c) => c.action === 'delete' && c.reason === 'no_eligible_exit'));
  });
});

describe('spec hashes of packed pools', () => {
  const base = packedPlan();
  const pool = (over: Partial<PoolSpec>): Partial<Parameters<typeof packedPlan>[0]> => ({
    fleet: packedFleet([{ ...PACKED, ...over }]),
  });

  const TOR_KEEPS: readonly { name: string; over: Parameters<typeof packedPlan>[0] }[] = [
    { name: 'another port range', over: pool({ basePort: 30000 }) },
    { name: 'another bind', over: pool({ bind: '::1' }) },
    { name: 'more proxies', over: pool({ count: 9 }) },
    { name: 'more proxies per tor', over: pool({ packing: { proxiesPerTor: 5 } }) },
    { name: 'flexible instead of strict', over: pool({ mode: 'flexible' }) },
    {
      name: 'rotating instead of strict',
      over: pool({ mode: 'rotating', rotateEverySeconds: 60 }),
    },
    { name: 'another geo', over: pool({ geo: ['DE', 'NL'], exclude: ['NL'] }) },
    { name: "the proxies' container shape (their template)", over: { containerShape: 'shape-2' } },
    { name: 'one exit fewer (one proxy re-pinned)', over: { exits: EXITS.slice(1) } },
    { name: 'an exit avoided (one proxy re-pinned)', over: { avoidedExits: new Set([EXITS[0]?.fingerprint ?? '']) } },
  ];
  for (const c of TOR_KEEPS) {
    test(`a shared tor's hash ignores ${c.name}`, () => {
      assert.equal(torHash(packedPlan(c.over), 'us-tor0'), torHash(base, 'us-tor0'));
    });
  }
  test('a change of one proxy replaces that proxy only, never its shared tor', () => {
    const running = observedAfter(base);
    const gone = proxy(base, 'us-1')?.after?.exits.fingerprints[0];
    const p = packedPlan({ ...running, exits: EXITS.filter((e) => e.fingerprint !== gone) });
    assert.deepEqual(
      p.changes.filter((c) => c.action !== 'noop').map((c) => `${c.action} ${c.proxy} ${c.reason}`),
      ['replace us-1 exit_gone'],
    );
    assert.deepEqual(torSummary(p), ['noop us-tor0 unchanged', 'noop us-tor1 unchanged', 'noop us-tor2 unchanged']);
  });

  const TOR_CHANGES: readonly { name: string; over: Parameters<typeof packedPlan>[0] }[] = [
    { name: 'the shared template or runtime (its shape)', over: { sharedTorShape: 'shared-shape-2' } },
    { name: 'the tor image', over: { fleet: packedFleet([PACKED], { image: 'torfleet/tor:0.5.0' }) } },
    { name: 'DisableNetwork', over: { fleet: packedFleet([PACKED], { disableNetwork: false }) } },
    {
      name: 'the corporate proxy credential',
      over: {
        fleet: packedFleet([PACKED], { httpsProxy: { address: '192.0.2.1:3128', auth: new Secret('u:p2') } }),
      },
    },
    { name: 'placement', over: pool({ placement: { constraints: ['node.labels.region==eu'] } }) },
  ];
  for (const c of TOR_CHANGES) {
    test(`a shared tor's hash covers ${c.name}`, () => {
      const before = c.name.includes('credential')
        ? packedPlan({
            fleet: packedFleet([PACKED], { httpsProxy: { address: '192.0.2.1:3128', auth: new Secret('u:p1') } }),
          })
        : base;
      assert.notEqual(torHash(packedPlan(c.over), 'us-tor0'), torHash(before, 'us-tor0'));
    });
  }
  test('shared tors of one pool differ by name, so each has its own hash', () => {
    assert.equal(new Set(base.sharedTors.map((c) => c.after?.specHash)).size, 3);
  });

  const PROXY_KEEPS: readonly { name: string; over: Parameters<typeof packedPlan>[0] }[] = [
    { name: "the proxies' container shape", over: { containerShape: 'shape-2' } },
    { name: 'the shared tor shape', over: { sharedTorShape: 'shared-shape-2' } },
    { name: 'the tor settings', over: { fleet: packedFleet([PACKED], { image: 'torfleet/tor:0.5.0' }) } },
    { name: 'placement', over: pool({ placement: { constraints: ['node.labels.region==eu'] } }) },
    { name: 'more proxies', over: pool({ count: 9 }) },
  ];
  for (const c of PROXY_KEEPS) {
    test(`a packed proxy's hash ignores ${c.name} (it has no container)`, () => {
      assert.equal(proxy(packedPlan(c.over), 'us-0')?.after?.specHash, proxy(base, 'us-0')?.after?.specHash);
    });
  }
  const PROXY_CHANGES: readonly { name: string; over: Parameters<typeof packedPlan>[0] }[] = [
    { name: 'its port', over: pool({ basePort: 30000 }) },
    { name: 'its bind', over: pool({ bind: '::1' }) },
    { name: 'its shared tor (proxiesPerTor moved it)', over: pool({ packing: { proxiesPerTor: 1 } }) },
    { name: 'its mode', over: pool({ mode: 'flexible' }) },
    { name: 'unpacking', over: pool({ packing: null }) },
  ];
  for (const c of PROXY_CHANGES) {
    test(`a packed proxy's hash covers ${c.name}`, () => {
      assert.notEqual(proxy(packedPlan(c.over), 'us-1')?.after?.specHash, proxy(base, 'us-1')?.after?.specHash);
    });
  }
  test("a packed proxy's hash covers its exit", () => {
    const gone = proxy(base, 'us-1')?.after?.exits.fingerprints[0];
    const p = packedPlan({ exits: EXITS.filter((e) => e.fingerprint !== gone) });
    assert.notEqual(proxy(p, 'us-1')?.after?.specHash, proxy(base, 'us-1')?.after?.specHash);
  });
  test("a rotating packed proxy's hash covers its period and geo, not the relay list", () => {
    const rotating = (over: Partial<PoolSpec>, exits = EXITS) =>
      proxy(
        packedPlan({
          exits,
          fleet: packedFleet([{ ...PACKED, mode: 'rotating', geo: ['DE', 'NL'], rotateEverySeconds: 60, ...over }]),
        }),
        'us-0',
      )?.after?.specHash;
    assert.notEqual(rotating({ rotateEverySeconds: 120 }), rotating({}));
    assert.notEqual(rotating({ exclude: ['NL'] }), rotating({}));
    assert.equal(rotating({}, EXITS.slice(0, -1)), rotating({}));
  });
});

describe('unpacked fleets plan exactly as before packing existed', () => {
  const fleet = packedFleet([
    testPool('us', { count: 2, basePort: 20000 }),
    testPool('world', { geo: 'NON_US', mode: 'flexible', count: 1, basePort: 20100 }),
    testPool('eu', { geo: ['DE', 'NL'], mode: 'rotating', count: 1, basePort: 20200, rotateEverySeconds: 600 }),
  ]);
  const exit = (n: number, country: string) => ({
    fingerprint: n.toString(16).toUpperCase().padStart(40, '0'),
    nickname: `exit${n}`,
    address: `10.${n}.0.${n}`,
    country,
    network: `10.${n}.0.0/16`,
  });
  test('the spec hashes are the ones the planner gave before packing (nothing restarts on upgrade)', () => {
    const p = computePlan({
      fleet,
      revision: 'r1',
      exits: [exit(1, 'US'), exit(2, 'US'), exit(3, 'DE'), exit(4, 'NL')],
      observed: [],
      containerShape: 'shape-1',
    });
    // Recorded from the planner of commit aace497, before packing was added.
    assert.deepEqual(
      p.changes.map((c) => [c.proxy, c.after?.specHash]),
      [
        ['us-0', 'f10a60094e6e58520dcb'],
        ['us-1', '5febc27698bd528f9db7'],
        ['world-0', 'b8bff77b06d4655a5fce'],
        ['eu-0', '5748e0e49fdcafb5dc21'],
      ],
    );
    assert.deepEqual(p.sharedTors, []);
  });
  test('no shared tor shape is needed without a packed pool; with one it is, and its absence is refused', () => {
    const input = { revision: 'r1', exits: EXITS, observed: [], containerShape: 'shape-1' };
    assert.doesNotThrow(() => computePlan({ ...input, fleet }));
    assert.throws(
      () => computePlan({ ...input, fleet: packedFleet() }),
      /pool us is packed, but PlanInput.sharedTorShape is missing/,
    );
  });
  test('observed shared tors of a fleet with no packed pool are deleted', () => {
    const p = computePlan({
      fleet,
      revision: 'r1',
      exits: EXITS,
      observed: [],
      containerShape: 'shape-1',
      observedSharedTors: [{ name: 'us-tor0', pool: 'us', id: 't1', state: 'running', specHash: 'x' }],
    });
    assert.deepEqual(torSummary(p), ['delete us-tor0 unpacked']);
  });
});

describe('a packed plan as JSON (plan --json)', () => {
  test('keeps format version 1, carries packing and sharedTors, and never a credential', () => {
    const p = packedPlan({
      fleet: packedFleet([PACKED], { httpsProxy: { address: '192.0.2.1:3128', auth: new Secret('u:hunter2') } }),
    });
    const json = JSON.parse(JSON.stringify(p)) as {
      formatVersion: number;
      changes: { after: { packing: unknown } }[];
      sharedTors: { after: { name: string; proxies: string[]; tor: { httpsProxy: { auth: string } } } }[];
    };
    assert.equal(json.formatVersion, 1);
    assert.deepEqual(json.changes[4]?.after.packing, { tor: 'us-tor1', sessionGroup: 4 });
    const last = json.sharedTors[2]?.after;
    assert.equal(last?.tor.httpsProxy.auth, '[redacted]');
    assert.equal(last.name, 'us-tor2');
    assert.ok(!JSON.stringify(p).includes('hunter2'));
  });
});
