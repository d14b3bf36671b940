import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BrokerHealth, type ProxyFeedback } from './health-model.js';
import { DEFAULT_BROKER_HEALTH, type BrokerHealthSettings } from './health-settings.js';
import type { ProxyHealthView } from './health-snapshot.js';

const START = Date.UTC(2026, 0, 1);

/** A model on a fake clock over pool `us` (us-0..us-3) and pool `de` (de-0, de-1); `random` always 0. */
function setup(settings: BrokerHealthSettings = DEFAULT_BROKER_HEALTH): {
  health: BrokerHealth;
  clock: { now: number };
} {
  const clock = { now: START };
  const health = new BrokerHealth(
    settings,
    () => clock.now,
    () => 0,
  );
  health.setFleet([
    ...[0, 1, 2, 3].map((i) => ({ proxyId: `us-${i}`, pool: 'us' })),
    ...[0, 1].map((i) => ({ proxyId: `de-${i}`, pool: 'de' })),
  ]);
  return { health, clock };
}

const US = ['us-0', 'us-1', 'us-2', 'us-3'];
const timeout = (proxyId: string, exchangeId: string | null = null): ProxyFeedback => ({
  proxyId,
  exchangeId,
  event: 'timeout',
  success: null,
  statusCode: null,
  latencyMs: null,
});
const result = (proxyId: string, statusCode: number | null, exchangeId: string | null = 'binance'): ProxyFeedback => ({
  proxyId,
  exchangeId,
  event: 'result',
  success: statusCode === null ? false : statusCode < 400,
  statusCode,
  latencyMs: 200,
});
const view = (health: BrokerHealth, proxyId: string): ProxyHealthView => {
  const found = health.snapshot().proxies.find((proxy) => proxy.proxyId === proxyId);
  assert.ok(found, proxyId);
  return found;
};
const chosen = (health: BrokerHealth, candidates: readonly string[], exchangeId: string | null = null): string | null =>
  health.choose({ candidates, exchangeId, connectionType: 'rest' })?.proxyId ?? null;

describe('health-model: outcome classes', () => {
  test('a proxy fault counts against the proxy everywhere: score, faults in a row, counts', () => {
    const { health } = setup();
    assert.equal(health.feedback(result('us-0', null)), 'proxy_fault');
    const proxy = view(health, 'us-0');
    assert.deepEqual([proxy.score, proxy.faultsInRow, proxy.counts.faults], [0.5, 1, 1]);
    assert.equal(view(health, 'us-1').score, 1);
  });

  test('a block counts against the proxy for that exchange only: not chosen there, chosen elsewhere, score kept', () => {
    const { health } = setup();
    assert.equal(health.feedback(result('us-0', 403)), 'target_block');
    // random 0 draws us-0 first: it would win the tie everywhere it is eligible.
    assert.equal(chosen(health, US, 'kraken'), 'us-0');
    assert.equal(chosen(health, US, null), 'us-0');
    assert.notEqual(chosen(health, US, 'binance'), 'us-0');
    const proxy = view(health, 'us-0');
    assert.deepEqual([proxy.score, proxy.faultsInRow, proxy.counts.blocks], [1, 0, 1]);
    assert.equal(health.usable('us-0', 'binance'), false);
    assert.equal(health.usable('us-0', 'kraken'), true);
  });

  test('a block never empties the choice: the only candidate, blocked, is still chosen', () => {
    const { health } = setup();
    health.feedback(result('de-0', 429));
    assert.equal(chosen(health, ['de-0'], 'binance'), 'de-0');
  });

  test('a success through a blocked proxy lifts its block there', () => {
    const { health } = setup();
    health.feedback(result('us-0', 403));
    health.feedback(result('us-0', 200));
    assert.equal(health.usable('us-0', 'binance'), true);
  });

  test("successes are not failures: three proxies succeeding for an exchange, then a fault is the proxy's", () => {
    const { health } = setup();
    for (const id of ['us-0', 'us-1', 'us-2']) health.feedback(result(id, 200));
    assert.equal(health.feedback(timeout('us-3', 'binance')), 'proxy_fault');
  });

  test('a target failure (an answer with an error) counts against no proxy', () => {
    const { health } = setup();
    assert.equal(health.feedback(result('us-0', 500)), 'target_failure');
    const proxy = view(health, 'us-0');
    assert.deepEqual([proxy.score, proxy.faultsInRow, proxy.counts], [1, 0, { successes: 0, faults: 0, blocks: 0 }]);
  });

  test('a failure through a third different proxy of one exchange counts against none: it is the exchange', () => {
    const { health } = setup();
    const classes = ['us-0', 'us-1', 'us-2', 'us-3'].map((id) => health.feedback(timeout(id, 'binance')));
    assert.deepEqual(classes, ['proxy_fault', 'proxy_fault', 'exchange_failure', 'exchange_failure']);
    assert.deepEqual(
      US.map((id) => view(health, id).counts.faults),
      [1, 1, 0, 0],
    );
    assert.equal(health.feedback(timeout('us-2', 'kraken')), 'proxy_fault', 'another exchange is judged apart');
  });

  test('blocks through three proxies: the exchange, and its blocks are lifted', () => {
    const { health } = setup();
    const classes = ['us-0', 'us-1', 'us-2'].map((id) => health.feedback(result(id, 403)));
    assert.deepEqual(classes, ['target_block', 'target_block', 'exchange_failure']);
    assert.deepEqual(
      US.map((id) => health.usable(id, 'binance')),
      [true, true, true, true],
    );
  });

  test("failures without an exchange id are never the exchange's", () => {
    const { health } = setup();
    assert.deepEqual(
      US.map((id) => health.feedback(timeout(id))),
      ['proxy_fault', 'proxy_fault', 'proxy_fault', 'proxy_fault'],
    );
  });

  test('a proxy not in the fleet is ignored', () => {
    const { health } = setup();
    assert.equal(health.feedback(timeout('nobody')), 'unknown_proxy');
    assert.equal(health.egressCheck({ proxyId: 'nobody', ok: false, latencyMs: null }), 'unknown_proxy');
    assert.equal(chosen(health, ['nobody']), null);
    assert.equal(health.usable('nobody', null), false);
    assert.equal(health.snapshot().proxies.length, 6);
  });
});

describe('health-model: ejection, cool-down and trial', () => {
  test('three proxy faults in a row eject; ejected proxies get no lease; after 30 s, trial leases only', () => {
    const { health, clock } = setup();
    for (let i = 0; i < 3; i++) health.feedback(timeout('de-0'));
    assert.deepEqual([view(health, 'de-0').state, view(health, 'de-0').reason], ['ejected', 'cooling_down']);
    assert.equal(view(health, 'de-0').ejectedUntil, new Date(START + 30_000).toISOString());
    assert.equal(chosen(health, ['de-0']), null);
    assert.equal(health.usable('de-0', null), false);
    clock.now += 30_000;
    assert.deepEqual([view(health, 'de-0').state, view(health, 'de-0').reason], ['degraded', 'trial']);
    assert.equal(
      health.choose({ candidates: ['de-1', 'de-0'], exchangeId: null, connectionType: 'rest' })?.rule,
      'trial',
    );
    assert.equal(chosen(health, ['de-1', 'de-0']), 'de-0', 'the second trial lease');
    assert.equal(chosen(health, ['de-1', 'de-0']), 'de-1', 'two trial leases out: the others take the rest');
    assert.equal(chosen(health, ['de-0']), null);
    assert.equal(health.usable('de-0', null), false, 'a sticky lease does not stay on a proxy on trial');
    clock.now += 60_000;
    assert.equal(chosen(health, ['de-1', 'de-0']), 'de-0', 'trial leases without an outcome time out after 60 s');
  });

  test('a trial success brings the proxy back', () => {
    const { health, clock } = setup();
    for (let i = 0; i < 3; i++) health.feedback(timeout('de-0'));
    clock.now += 30_000;
    health.feedback(result('de-0', 200));
    assert.deepEqual([view(health, 'de-0').state, view(health, 'de-0').reason], ['healthy', null]);
    assert.equal(health.usable('de-0', null), true);
  });

  test('a trial fault ejects it again for twice as long', () => {
    const { health, clock } = setup();
    for (let i = 0; i < 3; i++) health.feedback(timeout('de-0'));
    clock.now += 30_000;
    health.feedback(timeout('de-0'));
    const proxy = view(health, 'de-0');
    assert.deepEqual([proxy.state, proxy.ejections], ['ejected', 2]);
    assert.equal(proxy.ejectedUntil, new Date(clock.now + 60_000).toISOString());
  });

  test("torfleet's egress checks eject, decide trials and feed the score like client feedback", () => {
    const { health, clock } = setup();
    for (let i = 0; i < 3; i++)
      assert.equal(health.egressCheck({ proxyId: 'de-0', ok: false, latencyMs: null }), 'proxy_fault');
    assert.equal(view(health, 'de-0').state, 'ejected');
    clock.now += 30_000;
    assert.equal(health.egressCheck({ proxyId: 'de-0', ok: true, latencyMs: 1_000 }), 'success');
    const proxy = view(health, 'de-0');
    assert.deepEqual(
      [proxy.state, proxy.latencyMs, proxy.counts.successes, proxy.counts.faults],
      ['healthy', 1_000, 1, 3],
    );
    assert.ok(proxy.score < view(health, 'de-1').score);
  });
});

describe('health-model: never more than half of a pool ejected', () => {
  const cases: { name: string; failing: string[]; states: string[]; pool: 'healthy' | 'degraded' }[] = [
    { name: 'one of four', failing: ['us-0'], states: ['ejected', 'healthy', 'healthy', 'healthy'], pool: 'healthy' },
    {
      name: 'two of four',
      failing: ['us-0', 'us-1'],
      states: ['ejected', 'ejected', 'healthy', 'healthy'],
      pool: 'healthy',
    },
    {
      name: 'three of four: the third held in by the cap, the pool degraded',
      failing: ['us-0', 'us-1', 'us-2'],
      states: ['ejected', 'ejected', 'degraded', 'healthy'],
      pool: 'degraded',
    },
    {
      name: 'all four: two held in',
      failing: ['us-0', 'us-1', 'us-2', 'us-3'],
      states: ['ejected', 'ejected', 'degraded', 'degraded'],
      pool: 'degraded',
    },
  ];
  for (const { name, failing, states, pool } of cases) {
    test(name, () => {
      const { health } = setup();
      for (const id of failing) for (let i = 0; i < 3; i++) health.feedback(timeout(id));
      assert.deepEqual(
        US.map((id) => view(health, id).state),
        states,
      );
      const us = health.snapshot().pools.find((entry) => entry.pool === 'us');
      assert.equal(us?.state, pool);
      assert.equal(health.snapshot().pools.find((entry) => entry.pool === 'de')?.state, 'healthy', 'other pools apart');
    });
  }

  test('a proxy held in stays eligible (reason pool_cap), and is ejected at its next fault once there is room', () => {
    const { health, clock } = setup();
    for (const id of ['de-0', 'de-1']) for (let i = 0; i < 3; i++) health.feedback(timeout(id));
    assert.deepEqual([view(health, 'de-1').state, view(health, 'de-1').reason], ['degraded', 'pool_cap']);
    assert.equal(chosen(health, ['de-1']), 'de-1');
    assert.equal(health.usable('de-1', null), true);
    clock.now += 30_000;
    health.feedback(result('de-0', 200, null));
    health.feedback(timeout('de-1'));
    assert.equal(view(health, 'de-1').state, 'ejected');
  });

  test('a proxy on trial counts as out: another reaching the threshold meanwhile is held in', () => {
    const { health, clock } = setup();
    for (let i = 0; i < 3; i++) health.feedback(timeout('de-0'));
    clock.now += 30_000;
    for (let i = 0; i < 3; i++) health.feedback(timeout('de-1'));
    assert.deepEqual(
      ['de-0', 'de-1'].map((id) => view(health, id).reason),
      ['trial', 'pool_cap'],
    );
  });

  test('a pool of one is never ejected', () => {
    const { health } = setup();
    health.setFleet([{ proxyId: 'solo', pool: 'solo' }]);
    for (let i = 0; i < 5; i++) health.feedback(timeout('solo'));
    assert.equal(chosen(health, ['solo']), 'solo');
    assert.equal(health.snapshot().pools[0]?.state, 'degraded');
  });
});

describe('health-model: choice by score, or fewest open connections for websocket leases', () => {
  test('connect and release count open connections; a websocket lease goes to the fewest', () => {
    const { health } = setup();
    const event = (proxyId: string, kind: 'connect' | 'release'): void => {
      health.feedback({ proxyId, exchangeId: 'binance', event: kind, success: true, statusCode: null, latencyMs: 100 });
    };
    health.feedback({
      proxyId: 'de-0',
      exchangeId: null,
      event: 'connect',
      success: false,
      statusCode: null,
      latencyMs: null,
    });
    assert.equal(view(health, 'de-0').openConnections, 0, 'a failed connect opens nothing');
    event('de-0', 'connect');
    event('de-0', 'connect');
    event('de-1', 'connect');
    const websocket = (): string | undefined =>
      health.choose({ candidates: ['de-0', 'de-1'], exchangeId: 'binance', connectionType: 'websocket' })?.proxyId;
    assert.equal(websocket(), 'de-1');
    event('de-1', 'connect');
    event('de-1', 'connect');
    assert.equal(websocket(), 'de-0');
    assert.deepEqual([view(health, 'de-0').openConnections, view(health, 'de-1').openConnections], [2, 3]);
    for (let i = 0; i < 5; i++) event('de-1', 'release');
    assert.equal(view(health, 'de-1').openConnections, 0, 'never below 0');
    assert.equal(websocket(), 'de-1');
  });

  test('a rest lease: power of two choices, the better score of the two drawn', () => {
    const { health } = setup();
    health.feedback(result('de-0', null, null));
    const choice = health.choose({ candidates: ['de-0', 'de-1'], exchangeId: null, connectionType: 'rest' });
    assert.deepEqual(choice, { proxyId: 'de-1', pool: 'de', healthScore: 1, rule: 'power_of_two_choices' });
  });
});

describe('health-model: bounded memory', () => {
  test('a client sending 10k distinct exchange ids: at most maxExchanges remembered', () => {
    const { health } = setup({ ...DEFAULT_BROKER_HEALTH, maxExchanges: 500 });
    for (let i = 0; i < 10_000; i++) health.feedback(result('us-0', 403, `exchange-${i}`));
    assert.equal(health.snapshot().exchanges, 500);
  });

  test('proxy records: at most maxProxies, the least recently reported forgotten first', () => {
    const { health } = setup({ ...DEFAULT_BROKER_HEALTH, maxProxies: 2 });
    for (const id of ['us-0', 'us-1', 'us-2']) health.feedback(timeout(id));
    assert.deepEqual(
      ['us-0', 'us-1', 'us-2'].map((id) => view(health, id).counts.faults),
      [0, 1, 1],
    );
  });
});

describe('health-model: the snapshot', () => {
  test('its shape: version, time, pools and proxies sorted by name, every field', () => {
    const { health } = setup();
    health.setFleet([
      { proxyId: 'b-1', pool: 'b' },
      { proxyId: 'b-0', pool: 'b' },
      { proxyId: 'a-0', pool: 'a' },
    ]);
    health.feedback(result('b-0', 200));
    health.feedback(result('b-0', null));
    health.feedback(result('b-0', 403, 'kraken'));
    assert.deepEqual(health.snapshot(), {
      version: 1,
      at: '2026-01-01T00:00:00.000Z',
      pools: [
        { pool: 'a', state: 'healthy', proxies: 1, ejected: 0, trial: 0, heldByCap: 0 },
        { pool: 'b', state: 'healthy', proxies: 2, ejected: 0, trial: 0, heldByCap: 0 },
      ],
      proxies: [
        {
          proxyId: 'a-0',
          pool: 'a',
          state: 'healthy',
          reason: null,
          score: 1,
          successRate: 1,
          latencyMs: null,
          faultsInRow: 0,
          ejections: 0,
          ejectedUntil: null,
          openConnections: 0,
          counts: { successes: 0, faults: 0, blocks: 0 },
        },
        {
          proxyId: 'b-0',
          pool: 'b',
          state: 'healthy',
          reason: null,
          score: 0.556, // rate (1 + 1) / (2 + 1) × 1000 / (1000 + 200)
          successRate: 0.667,
          latencyMs: 200,
          faultsInRow: 1,
          ejections: 0,
          ejectedUntil: null,
          openConnections: 0,
          counts: { successes: 1, faults: 1, blocks: 1 },
        },
        {
          proxyId: 'b-1',
          pool: 'b',
          state: 'healthy',
          reason: null,
          score: 1,
          successRate: 1,
          latencyMs: null,
          faultsInRow: 0,
          ejections: 0,
          ejectedUntil: null,
          openConnections: 0,
          counts: { successes: 0, faults: 0, blocks: 0 },
        },
      ],
      exchanges: 2,
    });
  });
});
