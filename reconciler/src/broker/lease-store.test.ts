import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { silentLogger } from '../logger.js';
import { openNodeDatabase } from '../nodes/node-db-file.js';
import { LeaseStore, type Lease, type LeaseKey } from './lease-store.js';

const dir = mkdtempSync(path.join(tmpdir(), 'torfleet-leases-'));
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

const open = (file: string): ReturnType<typeof openNodeDatabase>['db'] =>
  openNodeDatabase(file, () => new Date(0), silentLogger).db;

const KEY: LeaseKey = { client: 'collector', exchangeId: 'binance', connectionType: 'websocket', region: 'US' };
const lease = (over: Partial<Lease> = {}): Lease => ({
  ...KEY,
  id: 'lease-1',
  proxyId: 'us-strict-0',
  createdAt: 1_000,
  expiresAt: 61_000,
  ...over,
});

describe('LeaseStore', () => {
  test('a lease survives closing and opening the database file again', () => {
    const file = path.join(dir, 'restart.db');
    const first = open(file);
    new LeaseStore(first).put(lease());
    first.close();
    const again = open(file);
    assert.deepEqual(new LeaseStore(again).sticky(KEY, 2_000), lease());
    again.close();
  });

  test('sticky: only the same client, exchange, connection type and region, and only while it lives', () => {
    const db = open(':memory:');
    const store = new LeaseStore(db);
    store.put(lease());
    const cases: ReadonlyArray<[string, Partial<LeaseKey>, number, boolean]> = [
      ['the same key, live', {}, 60_999, true],
      ['the same key, at its end', {}, 61_000, false],
      ['another client', { client: 'other' }, 2_000, false],
      ['another exchange', { exchangeId: 'kraken' }, 2_000, false],
      ['another connection type', { connectionType: 'rest' }, 2_000, false],
      ['another region', { region: 'DE' }, 2_000, false],
    ];
    for (const [name, over, now, found] of cases) {
      assert.equal(store.sticky({ ...KEY, ...over }, now) !== null, found, name);
    }
    db.close();
  });

  test('sticky picks the lease that lives longest; extend and prune', () => {
    const db = open(':memory:');
    const store = new LeaseStore(db);
    store.put(lease({ id: 'short', expiresAt: 10_000 }));
    store.put(lease({ id: 'long', proxyId: 'us-strict-1', expiresAt: 90_000 }));
    assert.equal(store.sticky(KEY, 5_000)?.id, 'long');
    assert.equal(store.extend('short', 120_000), true);
    assert.equal(store.sticky(KEY, 5_000)?.id, 'short');
    assert.equal(store.extend('missing', 1), false);
    assert.deepEqual([...store.leasesPerProxy(100_000)], [['us-strict-0', 1]]);
    assert.deepEqual(
      [...store.leasesPerProxy(5_000)],
      [
        ['us-strict-0', 1],
        ['us-strict-1', 1],
      ],
    );
    assert.equal(store.prune(90_000), 1);
    assert.equal(store.get('long'), null);
    assert.equal(store.get('short')?.expiresAt, 120_000, 'get finds a lease whatever its end');
    db.close();
  });
});
