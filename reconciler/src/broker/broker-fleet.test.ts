import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildSpec } from '../plan/compute-plan.js';
import { PLAN_FORMAT_VERSION, type Plan } from '../plan/plan-types.js';
import { TEST_TOR, testPool } from '../testing/fleet-fixtures.js';
import { brokerFleetOf } from './broker-fleet.js';

const EXITS = { fingerprints: ['A'.repeat(40)], addresses: ['198.51.100.1'], countries: ['US'], network: null };
const planOf = (...binds: string[]): Plan => ({
  formatVersion: PLAN_FORMAT_VERSION,
  revision: 'r',
  shortfalls: [],
  sharedTors: [],
  changes: binds.map((bind, i) => {
    const after = buildSpec(testPool(`p${i}`, { count: 1, basePort: 9050 + i, bind }), 0, EXITS, TEST_TOR, 'd');
    return { action: 'noop', proxy: after.name, pool: after.pool, reason: 'unchanged', before: null, after };
  }),
});

describe('brokerFleetOf: the address a lease hands out', () => {
  test('here: a wildcard bind at TORFLEET_BROKER_PROXY_HOST, another bind as it is', () => {
    const fleet = brokerFleetOf(planOf('0.0.0.0', '127.0.0.2'), [], {}, '10.0.0.5');
    assert.deepEqual(
      fleet.proxies.map((p) => [p.proxyId, p.host, p.port]),
      [
        ['p0-0', '10.0.0.5', 9050],
        ['p1-0', '127.0.0.2', 9051],
      ],
    );
  });

  test('on another swarm node: that node address, for a wildcard or a loopback bind', () => {
    const nodes: Record<string, string> = { 'p0-0': '10.0.0.6', 'p1-0': '10.0.0.7', 'p2-0': '10.0.0.8' };
    const fleet = brokerFleetOf(
      planOf('0.0.0.0', '127.0.0.1', '10.0.0.9'),
      [],
      {},
      '10.0.0.5',
      (name) => nodes[name] ?? null,
    );
    assert.deepEqual(
      fleet.proxies.map((p) => p.host),
      ['10.0.0.6', '10.0.0.7', '10.0.0.9'],
    );
  });
});
