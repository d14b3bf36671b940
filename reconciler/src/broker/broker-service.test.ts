import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { createLogger, silentLogger } from '../logger.js';
import { packagePath } from '../package-root.js';
import { openNodeDatabase } from '../nodes/node-db-file.js';
import type { FeedbackEvent, ProxyRequestBody } from './broker-bodies.js';
import type { BrokerFleet, BrokerProxy } from './broker-fleet.js';
import { createBrokerParts, type BrokerParts } from './broker-parts.js';
import type { LeaseAnswer } from './lease-answer.js';

/** The broker's decisions on a fixed fleet, with a clock of the test's own (leases in a real SQLite file). */
const dir = mkdtempSync(path.join(tmpdir(), 'torfleet-broker-service-'));
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

const proxy = (proxyId: string, pool: string, port: number, over: Partial<BrokerProxy> = {}): BrokerProxy => ({
  proxyId,
  pool,
  geo: 'US',
  exclude: [],
  exitCountries: ['US'],
  host: '127.0.0.1',
  port,
  mode: 'strict',
  exitFingerprints: [`FP${proxyId.toUpperCase().replace(/-/g, '')}`],
  ...over,
});
const FLEET: BrokerFleet = {
  proxies: [
    proxy('us-0', 'us', 19050),
    proxy('us-1', 'us', 19051),
    proxy('us-2', 'us', 19052),
    proxy('us-3', 'us', 19053),
    proxy('de-0', 'de', 19060, { geo: ['DE'], exitCountries: ['DE'] }),
  ],
  pools: ['us', 'de'],
  regions: { 'eu-central-1': 'DE' },
};
const ask = (over: Partial<ProxyRequestBody> = {}): ProxyRequestBody => ({
  exchangeId: 'binance',
  connectionType: 'rest',
  region: 'US',
  clientId: null,
  metadata: {},
  ...over,
});
const event = (over: Partial<FeedbackEvent>): FeedbackEvent => ({
  leaseId: null,
  proxyId: null,
  proxyUrl: null,
  exchangeId: null,
  connectionType: null,
  event: 'result',
  success: null,
  latencyMs: null,
  statusCode: null,
  errorDetails: null,
  timestamp: null,
  clientId: null,
  ...over,
});

interface Harness extends BrokerParts {
  clock: { now: number };
  repins: string[];
  lease(client: string, body?: Partial<ProxyRequestBody>): LeaseAnswer;
  close(): void;
}

function harness(file = ':memory:', fleet: BrokerFleet = FLEET, start = 1_700_000_000_000): Harness {
  const clock = { now: start };
  const repins: string[] = [];
  const { db } = openNodeDatabase(file, () => new Date(clock.now), silentLogger);
  const parts = createBrokerParts({
    db,
    leaseTtlSeconds: 60,
    fallback: 'embedded',
    log: silentLogger,
    now: () => clock.now,
    random: () => 0.5,
    onRepin: (proxyId) => repins.push(proxyId),
  });
  parts.service.setFleet(fleet);
  return {
    ...parts,
    clock,
    repins,
    lease(client, body = {}) {
      const outcome = parts.service.request(client, ask(body));
      if (!outcome.ok) assert.fail(`refused: ${outcome.message}`);
      return outcome.answer;
    },
    close: () => {
      db.close();
    },
  };
}

describe('broker service', () => {
  test('not ready before the first fleet', () => {
    const { db } = openNodeDatabase(':memory:', () => new Date(), silentLogger);
    const { service } = createBrokerParts({ db, leaseTtlSeconds: 60, fallback: 'fail', log: silentLogger });
    assert.equal(service.ready, false);
    assert.deepEqual(service.request('a', ask()), {
      ok: false,
      code: 'not_ready',
      message: 'the broker has no fleet yet: retry in a few seconds',
    });
    db.close();
  });

  test('sticky within the TTL, with what is left of it; a new lease after it', () => {
    const h = harness();
    const first = h.lease('collector');
    assert.equal(first.ttl_seconds, 60);
    h.clock.now += 45_500;
    const again = h.lease('collector');
    assert.equal(again.strategy, 'sticky');
    assert.equal(again.metadata.lease_id, first.metadata.lease_id);
    assert.equal(again.ttl_seconds, 15);
    h.clock.now += 15_000;
    const after = h.lease('collector');
    assert.notEqual(after.strategy, 'sticky');
    assert.notEqual(after.metadata.lease_id, first.metadata.lease_id);
    assert.equal(after.ttl_seconds, 60);
    h.close();
  });

  test('a restart keeps leases: a new service on the same database file gives the same lease back', () => {
    const file = path.join(dir, 'restart.db');
    const before = harness(file);
    const first = before.lease('collector', { connectionType: 'websocket' });
    before.close();
    const restarted = harness(file, FLEET, before.clock.now + 10_000);
    const again = restarted.lease('collector', { connectionType: 'websocket' });
    assert.equal(again.strategy, 'sticky');
    assert.equal(again.metadata.lease_id, first.metadata.lease_id);
    assert.equal(again.proxy_url, first.proxy_url);
    restarted.close();
  });

  test('a sticky lease is left when its proxy is not offered, is ejected, or is blocked by the exchange', () => {
    const h = harness();
    const first = h.lease('c');
    const leased = first.metadata.proxy_id ?? '';
    h.service.setUnusable(new Set([leased]));
    const moved = h.lease('c');
    assert.notEqual(moved.metadata.proxy_id, leased, 'not offered: another proxy');
    h.service.setUnusable(new Set());

    const blocked = moved.metadata.proxy_id ?? '';
    h.service.feedback([event({ proxyId: blocked, exchangeId: 'binance', statusCode: 403 })]);
    const third = h.lease('c');
    assert.notEqual(third.metadata.proxy_id, blocked, 'blocked by this exchange: another proxy');
    const otherExchange = h.lease('c', { exchangeId: 'kraken' });
    assert.ok(otherExchange.proxy_url, 'another exchange still gets a proxy');

    const ejected = third.metadata.proxy_id ?? '';
    h.service.feedback([1, 2, 3].map(() => event({ proxyId: ejected, event: 'timeout' })));
    assert.notEqual(h.lease('c').metadata.proxy_id, ejected, 'ejected: another proxy');
    h.close();
  });

  test('proxies not offered are never leased; a region with none left is proxy_url null and the policy', () => {
    const h = harness();
    h.service.setUnusable(new Set(['us-0', 'us-1', 'us-2']));
    for (let i = 0; i < 20; i++) assert.equal(h.lease(`c${i}`).metadata.proxy_id, 'us-3');
    h.service.setUnusable(new Set(['de-0']));
    const none = h.lease('c', { region: 'eu-central-1' });
    assert.deepEqual(none, {
      proxy_url: null,
      strategy: 'none',
      ttl_seconds: 10,
      fallback_policy: 'embedded',
      metadata: { proxy_id: null, lease_id: null, region: 'eu-central-1', health_score: null },
    });
    h.close();
  });

  test('feedback finds its proxy by lease (even ended), by id, or by the address in proxy_url', () => {
    const h = harness();
    const leased = h.lease('c');
    h.clock.now += 120_000;
    const counts = h.service.feedback([
      event({ leaseId: leased.metadata.lease_id, success: true, latencyMs: 100 }),
      event({ proxyId: 'de-0', success: true }),
      event({ proxyUrl: 'socks5h://127.0.0.1:19051', success: true }),
      event({ proxyUrl: 'socks5h://127.0.0.1:9', success: true }),
      event({ leaseId: 'lease_nothing', success: true }),
    ]);
    assert.deepEqual(counts, { accepted: 5, unmatched: 2 });
    const view = h.service.healthView() as { proxies: { proxy_id: string; counts: { successes: number } }[] };
    const successes = Object.fromEntries(view.proxies.map((p) => [p.proxy_id, p.counts.successes]));
    assert.equal(successes['de-0'], 1);
    assert.equal(successes['us-1'], (leased.metadata.proxy_id === 'us-1' ? 1 : 0) + 1);
    h.close();
  });

  test('the health view counts live leases per proxy and prune forgets leases an hour after their end', () => {
    const h = harness();
    const a = h.lease('a');
    h.lease('b');
    const view = h.service.healthView() as { proxies: { proxy_id: string; leases: number }[] };
    assert.equal(
      view.proxies.reduce((sum, p) => sum + p.leases, 0),
      2,
    );
    h.clock.now += 60_000 + 59 * 60_000;
    assert.equal(h.service.prune(), 0, 'ended 59 min ago: kept for late feedback');
    h.clock.now += 60_000;
    assert.equal(h.service.prune(), 2);
    assert.deepEqual(h.service.feedback([event({ leaseId: a.metadata.lease_id, success: true })]), {
      accepted: 1,
      unmatched: 1,
    });
    h.close();
  });

  test('a strict proxy ejected twice in a row is re-pinned once, not again within 30 minutes', () => {
    const h = harness();
    const faults = (n: number): void => {
      h.service.feedback(Array.from({ length: n }, () => event({ proxyId: 'us-0', event: 'timeout' })));
    };
    faults(3);
    assert.deepEqual(h.repins, [], 'one ejection: not yet');
    h.clock.now += 40_000; // past the first cool-down (30 s, jittered)
    h.lease('trial-taker'); // the trial lease may go to us-0 or not; a fault on trial ejects again either way
    faults(1);
    assert.equal(h.repins.length <= 1, true);
    faults(3);
    assert.deepEqual(h.repins, ['us-0']);
    assert.deepEqual([...h.repin.avoided()], ['FPUS0']);
    h.clock.now += 5 * 60_000;
    faults(6);
    assert.deepEqual(h.repins, ['us-0'], 'flap suppression: once per 30 min');
    h.clock.now += 30 * 60_000;
    assert.deepEqual([...h.repin.avoided()], [], 'the exit is avoided for 30 min');
    h.close();
  });

  test('a region leases only proxies whose every possible exit is in it; a pool name leases its own', () => {
    const mixed = proxy('both-0', 'both', 19080, { geo: ['US', 'DE'], exitCountries: ['US', 'DE'], mode: 'rotating' });
    const h = harness(':memory:', { ...FLEET, proxies: [...FLEET.proxies, mixed], pools: [...FLEET.pools, 'both'] });
    for (let i = 0; i < 30; i++) {
      assert.notEqual(h.lease(`us-${i}`).metadata.proxy_id, 'both-0', 'US: may exit in DE');
      assert.equal(h.lease(`de-${i}`, { region: 'DE' }).metadata.proxy_id, 'de-0', 'DE: may exit in the US');
    }
    assert.equal(h.lease('pool', { region: 'both' }).metadata.proxy_id, 'both-0');
    h.close();
  });

  test('rotating and flexible proxies are never re-pinned by the broker', () => {
    const h = harness(':memory:', {
      ...FLEET,
      proxies: [proxy('r-0', 'r', 19090, { mode: 'rotating', exitFingerprints: [] }), proxy('r-1', 'r', 19091)],
      pools: ['r'],
    });
    for (let round = 0; round < 4; round++) {
      h.service.feedback([1, 2, 3].map(() => event({ proxyId: 'r-0', event: 'timeout' })));
      h.clock.now += 11 * 60_000;
    }
    assert.deepEqual(h.repins, []);
    h.close();
  });

  test('metrics: leases by region and result, feedback by class, proxies by state and score', async () => {
    const h = harness();
    h.lease('a');
    h.lease('a');
    h.lease('a', { region: 'JP' });
    h.service.feedback([event({ proxyId: 'de-0', statusCode: 403 }), event({ proxyId: 'nope', success: true })]);
    const text = await h.metrics.registry.metrics();
    for (const line of [
      'torfleet_broker_leases_total{region="US",result="leased"} 1',
      'torfleet_broker_leases_total{region="US",result="sticky"} 1',
      'torfleet_broker_leases_total{region="JP",result="no_proxy"} 1',
      'torfleet_broker_feedback_events_total{class="target_block"} 1',
      'torfleet_broker_feedback_events_total{class="unknown_proxy"} 1',
      'torfleet_broker_proxies{pool="us",state="healthy"} 4',
      'torfleet_broker_proxies{pool="de",state="ejected"} 0',
      'torfleet_broker_health_score{pool="de",proxy="de-0"} 1',
    ]) {
      assert.ok(text.includes(line), `${line} in\n${text}`);
    }
    h.close();
  });

  test('the health view matches schemas/broker/proxy-health.schema.json, with proxies in every state', () => {
    const schema = JSON.parse(
      readFileSync(packagePath('schemas', 'broker', 'proxy-health.schema.json'), 'utf8'),
    ) as object;
    const valid = new Ajv2020({ strict: true, allowUnionTypes: true }).compile(schema);
    const h = harness();
    h.lease('a');
    h.service.feedback([
      event({ proxyId: 'us-1', success: true, latencyMs: 40.6 }),
      ...[1, 2, 3].map(() => event({ proxyId: 'us-0', event: 'timeout' as const })),
      ...[1, 2, 3].map(() => event({ proxyId: 'us-2', event: 'timeout' as const })),
      ...[1, 2, 3].map(() => event({ proxyId: 'us-3', event: 'timeout' as const })),
    ]);
    const view = h.service.healthView() as { proxies: { state: string; reason: string | null }[] };
    assert.ok(valid(view), JSON.stringify(valid.errors));
    assert.deepEqual(
      new Set(view.proxies.map((p) => `${p.state}/${String(p.reason)}`)),
      new Set(['healthy/null', 'ejected/cooling_down', 'degraded/pool_cap']),
    );
    h.clock.now += 40_000;
    const trial = h.service.healthView() as { proxies: { state: string; reason: string | null }[] };
    assert.ok(valid(trial), JSON.stringify(valid.errors));
    assert.ok(trial.proxies.some((p) => p.reason === 'trial'));
    h.close();
  });

  test('a repin is logged with the proxy and its exits, never with a client token', () => {
    const lines: string[] = [];
    const log = createLogger((line) => lines.push(line), 'info');
    const { db } = openNodeDatabase(':memory:', () => new Date(), silentLogger);
    let now = 1_700_000_000_000;
    const parts = createBrokerParts({ db, leaseTtlSeconds: 60, fallback: 'fail', log, now: () => now });
    parts.service.setFleet(FLEET);
    for (let round = 0; round < 2; round++) {
      parts.service.feedback([1, 2, 3].map(() => event({ proxyId: 'us-0', event: 'timeout' })));
      now += 40_000;
      parts.service.request('client', ask());
    }
    parts.service.feedback([event({ proxyId: 'us-0', event: 'timeout' })]);
    assert.ok(
      lines.some((line) => line.includes('re-pinned') && line.includes('FPUS0')),
      lines.join('\n'),
    );
    db.close();
  });
});
