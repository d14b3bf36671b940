import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { proxyName } from './assign-exits.js';
import { sharedTorCount, sharedTorIndexOf, sharedTorName } from './shared-tor-name.js';

/** Pool names chosen to collide if the scheme were weaker: names ending like a proxy index or a tor name. */
const POOLS = [
  'us',
  'us-tor',
  'us-tor0',
  'us-tor-0',
  'us-0',
  'us-0-tor0',
  'tor',
  'tor0',
  'a',
  'a-1',
  'a-tor1',
  'a-tor12',
  'a-t',
  'x'.repeat(31),
  `${'y'.repeat(27)}-tor`,
];
const INDICES = [0, 1, 2, 10, 12, 99, 9999];
const POOL_NAME = /^[a-z][a-z0-9-]{0,30}$/;
/** Swarm's service name rule (swarmkit: a DNS label, [-_] inside) and Docker's container name rule. */
const SWARM_SERVICE = /^[a-zA-Z0-9](?:[-_]*[A-Za-z0-9]+)*$/;
const CONTAINER = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

describe('sharedTorName: POOL-torK', () => {
  test('every test pool name is a valid pool name', () => {
    for (const pool of POOLS) assert.match(pool, POOL_NAME);
  });
  test('never the name of any proxy of any pool', () => {
    const proxies = new Set(POOLS.flatMap((pool) => INDICES.map((i) => proxyName(pool, i))));
    for (const pool of POOLS) {
      for (const k of INDICES) assert.ok(!proxies.has(sharedTorName(pool, k)), sharedTorName(pool, k));
    }
  });
  test('never the name of another pool’s shared tor, nor of another K', () => {
    const seen = new Map<string, string>();
    for (const pool of POOLS) {
      for (const k of INDICES) {
        const name = sharedTorName(pool, k);
        assert.equal(seen.get(name), undefined, `${name} twice`);
        seen.set(name, `${pool}/${k}`);
      }
    }
  });
  test('a valid container and swarm service name, torfleet- prefix included, at most 63 characters', () => {
    for (const pool of POOLS) {
      const name = `torfleet-${sharedTorName(pool, 9999)}`;
      assert.match(name, SWARM_SERVICE);
      assert.match(name, CONTAINER);
      assert.ok(name.length <= 63, name);
    }
  });
  test('tor K serves proxies K*N to K*N+N-1; a pool needs ceil(count / N) tors', () => {
    const TABLE: readonly [index: number, perTor: number, tor: number][] = [
      [0, 3, 0],
      [2, 3, 0],
      [3, 3, 1],
      [6, 3, 2],
      [999, 1000, 0],
      [1000, 1000, 1],
      [5, 1, 5],
    ];
    for (const [index, perTor, tor] of TABLE) assert.equal(sharedTorIndexOf(index, perTor), tor, `${index}/${perTor}`);
    assert.deepEqual(
      [
        sharedTorCount(0, 3),
        sharedTorCount(1, 3),
        sharedTorCount(3, 3),
        sharedTorCount(7, 3),
        sharedTorCount(10000, 1000),
      ],
      [0, 1, 1, 3, 10],
    );
  });
});
