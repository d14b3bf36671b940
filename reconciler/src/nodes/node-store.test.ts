import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import Database from 'better-sqlite3';
import type { GeoSelector } from '../fleet/fleet-types.js';
import { inPoolGeo } from '../fleet/geo-match.js';
import { groupBySlash16 } from '../plan/exit-groups.js';
import { sharedConsensusFile, sharedGeoIpFile } from '../testing/shared-data.js';
import { tempDir } from '../testing/temp-dir.js';
import { createConsensusSource } from './consensus-source.js';
import type { NodeSource } from './node-source.js';
import { NodeStore } from './node-store.js';
import type { NodeSnapshot, Relay } from './relay.js';
import { summarizeSnapshot } from './snapshot-guard.js';
import { MIGRATIONS } from './store-migrations.js';

const SOURCE: NodeSource = {
  name: 'onionoo',
  location: 'http://127.0.0.1:1',
  fetch: () => Promise.reject(new Error('unused')),
};
const T0 = new Date('2022-11-19T10:00:00Z');
const HOUR = 3_600_000;

function relay(n: number, over: Partial<Relay> = {}): Relay {
  return {
    fingerprint: n.toString(16).toUpperCase().padStart(40, '0'),
    nickname: `relay${n}`,
    orAddresses: [`198.51.${n % 3}.${n}:9001`],
    exitAddresses: [],
    country: 'US',
    asNumber: null,
    flags: ['Exit', 'Running', 'Valid'],
    running: true,
    exitPolicySummary: { accept: ['80', '443'] },
    firstSeen: null,
    lastSeen: null,
    ...over,
  };
}

/** Ten relays: 1-4 US exits (4 is BadExit), 5-7 DE exits, 8 a NL exit with a separate exit address, 9 unknown country, 10 not an exit. */
const RELAYS: readonly Relay[] = [
  relay(1),
  relay(2),
  relay(3),
  relay(4, { flags: ['BadExit', 'Exit', 'Running'] }),
  relay(5, { country: 'DE' }),
  relay(6, { country: 'DE' }),
  relay(7, { country: 'DE' }),
  relay(8, { country: 'NL', exitAddresses: ['203.0.113.8'] }),
  relay(9, { country: null }),
  relay(10, { country: 'DE', flags: ['Guard', 'Running'] }),
];

function snapshot(relays: readonly Relay[], published = T0): NodeSnapshot {
  return { relaysPublished: published, relays };
}

function openStore(): { store: NodeStore; file: string } {
  const file = path.join(tempDir('store'), 'nodes.db');
  return { store: NodeStore.open(file), file };
}

describe('node store', () => {
  test('creates its schema once, in WAL mode, at the latest user_version', () => {
    const { store, file } = openStore();
    store.close();
    NodeStore.open(file).close();
    const db = new Database(file, { readonly: true });
    assert.equal(db.pragma('user_version', { simple: true }), MIGRATIONS.length);
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    db.close();
  });

  test('refuses a database from a newer torfleet', () => {
    const { store, file } = openStore();
    store.close();
    const db = new Database(file);
    db.pragma('user_version = 99');
    db.close();
    assert.throws(() => NodeStore.open(file), /schema version 99, newer than this torfleet knows/);
  });

  const EXIT_QUERIES: readonly [string, Parameters<NodeStore['eligibleExits']>, number[]][] = [
    ['US', ['US'], [1, 2, 3]],
    ['NON_US', ['NON_US'], [5, 6, 7, 8]],
    ['NON_US without DE', ['NON_US', ['DE']], [8]],
    ['[DE, NL]', [['DE', 'NL']], [5, 6, 7, 8]],
    ['[DE, NL] without NL', [['DE', 'NL'], ['NL']], [5, 6, 7]],
    ['[FR]', [['FR']], []],
  ];
  for (const [name, args, expected] of EXIT_QUERIES) {
    test(`eligible exits of ${name}: running, Exit, not BadExit, known country`, () => {
      const { store } = openStore();
      store.storeSnapshot(SOURCE, snapshot(RELAYS), null, T0, T0);
      assert.deepEqual(
        store.eligibleExits(...args).map((e) => parseInt(e.fingerprint, 16)),
        expected,
      );
      store.close();
    });
  }

  test('exits carry their exit address (else OR address) and /16; groups are disjoint by /16', () => {
    const { store } = openStore();
    store.storeSnapshot(SOURCE, snapshot(RELAYS), null, T0, T0);
    const nl = store.eligibleExits(['NL'])[0];
    assert.deepEqual(nl, {
      fingerprint: relay(8).fingerprint,
      nickname: 'relay8',
      address: '203.0.113.8',
      country: 'NL',
      network: '203.0.0.0/16',
    });
    const groups = groupBySlash16(store.eligibleExits('NON_US'));
    assert.deepEqual(
      groups.map((g) => [g.network, g.exits.map((e) => e.nickname)]),
      [
        ['198.51.0.0/16', ['relay5', 'relay6', 'relay7']],
        ['203.0.0.0/16', ['relay8']],
      ],
    );
    store.close();
  });

  test('a refresh marks relays it no longer lists as not running, and counts follow', () => {
    const { store } = openStore();
    store.storeSnapshot(SOURCE, snapshot(RELAYS), null, T0, T0);
    const later = new Date(T0.getTime() + HOUR);
    store.storeSnapshot(
      SOURCE,
      snapshot(
        RELAYS.filter((r) => r.nickname !== 'relay1'),
        later,
      ),
      null,
      later,
      later,
    );
    assert.deepEqual(
      store.eligibleExits('US').map((e) => e.nickname),
      ['relay2', 'relay3'],
    );
    const stats = store.stats(later, 3 * HOUR);
    assert.deepEqual(stats, {
      exits: { US: 2, NON_US: 4 },
      relays: 9,
      relaysPublished: later.toISOString(),
      refreshedAt: later.toISOString(),
      stale: false,
    });
    // Capacity counts exits ever known, running or not.
    assert.equal(store.exitsFor('US', []), 3);
    assert.equal(store.groupsFor('NON_US', []), 2);
    store.close();
  });

  test('staleness is judged by relays_published against the allowed age', () => {
    const { store } = openStore();
    assert.equal(store.stats(T0, 3 * HOUR).stale, true, 'never refreshed is stale');
    store.storeSnapshot(SOURCE, snapshot(RELAYS), null, T0, T0);
    assert.equal(store.stats(new Date(T0.getTime() + 3 * HOUR), 3 * HOUR).stale, false);
    assert.equal(store.stats(new Date(T0.getTime() + 3 * HOUR + 1), 3 * HOUR).stale, true);
    store.close();
  });

  test('a failed refresh changes no relay row and is logged with its error', () => {
    const { store, file } = openStore();
    store.storeSnapshot(SOURCE, snapshot(RELAYS), 'Sat, 19 Nov 2022 10:05:00 GMT', T0, T0);
    const dump = (): unknown => new Database(file, { readonly: true }).prepare('SELECT * FROM relays ORDER BY 1').all();
    const before = dump();
    // A snapshot whose 3rd relay breaks a constraint: the whole transaction rolls back.
    const broken = [relay(11), relay(12), { ...relay(13), fingerprint: 'SHORT' }];
    assert.throws(() => {
      store.storeSnapshot(SOURCE, snapshot(broken, new Date(T0.getTime() + HOUR)), null, T0, T0);
    });
    store.recordFailure(SOURCE, T0, T0, 'onionoo answered garbage');
    assert.deepEqual(dump(), before);
    assert.deepEqual(
      store.recentRefreshes(2).map((r) => [r.outcome, r.relays, r.error]),
      [
        ['failed', null, 'onionoo answered garbage'],
        ['updated', 10, null],
      ],
    );
    assert.deepEqual(store.checkpoint(SOURCE), { lastModified: 'Sat, 19 Nov 2022 10:05:00 GMT', relaysPublished: T0 });
    store.close();
  });

  test('relays_published and the refresh time survive a refresh log full of failures', () => {
    const { store } = openStore();
    store.storeSnapshot(SOURCE, snapshot(RELAYS), null, T0, T0);
    for (let i = 0; i < 1001; i++) store.recordFailure(SOURCE, T0, T0, `onionoo down ${i}`);
    const stats = store.stats(T0, 3 * HOUR);
    assert.equal(stats.relaysPublished, T0.toISOString());
    assert.equal(stats.refreshedAt, T0.toISOString());
    assert.equal(stats.relays, 10);
    assert.equal(stats.stale, false);
    assert.equal(store.recentRefreshes(2000).length, 1000, 'the log itself stays trimmed');
    store.close();
  });

  test('a database of schema 1 is migrated: its snapshot time and refresh log are kept', () => {
    const file = path.join(tempDir('store-v1'), 'nodes.db');
    const v1 = new Database(file);
    v1.exec(MIGRATIONS[0] ?? '');
    v1.pragma('user_version = 1');
    v1.prepare(
      `INSERT INTO source_state (source, location, last_modified, relays_published) VALUES ('onionoo', 'x', NULL, ?)`,
    ).run(T0.toISOString());
    v1.prepare(
      `INSERT INTO refreshes (source, location, started_at, finished_at, outcome, relays, exits, relays_published)
       VALUES ('onionoo', 'x', ?, ?, 'updated', 0, 0, ?)`,
    ).run(T0.toISOString(), T0.toISOString(), T0.toISOString());
    v1.close();
    const store = NodeStore.open(file);
    const stats = store.stats(T0, HOUR);
    assert.equal(stats.relaysPublished, T0.toISOString());
    assert.equal(stats.refreshedAt, T0.toISOString());
    assert.deepEqual(
      store.recentRefreshes(5).map((r) => r.outcome),
      ['updated'],
    );
    store.close();
  });

  test('exits at unusable addresses or in unassigned countries are stored but never eligible', () => {
    const { store } = openStore();
    const odd = [
      relay(21, { exitAddresses: ['0.0.0.0'], orAddresses: ['0.0.0.0:9001'] }),
      relay(22, { orAddresses: ['255.255.255.255:9001'] }),
      relay(23, { country: 'ZZ' }),
      relay(24, { country: 'A?' }),
      relay(25, { country: 'EU' }),
      relay(26, { exitAddresses: ['224.0.0.1', '203.0.113.26'], country: 'NL' }),
    ];
    store.storeSnapshot(SOURCE, snapshot([...RELAYS, ...odd]), null, T0, T0);
    const stats = store.stats(T0, HOUR);
    assert.deepEqual(stats.exits, { US: 3, NON_US: 5 });
    assert.equal(stats.relays, 16);
    assert.deepEqual(
      store.eligibleExits(['NL']).map((e) => [e.nickname, e.address]),
      [
        ['relay8', '203.0.113.8'],
        ['relay26', '203.0.113.26'],
      ],
    );
    assert.equal(store.exitsFor('NON_US', []), 5, 'capacity does not count them either');
    assert.equal(store.allEligibleExits().length, 8);
    store.close();
  });

  test('a refusal is recorded, shown in stats, and cleared by the next stored snapshot', () => {
    const { store } = openStore();
    store.storeSnapshot(SOURCE, snapshot(RELAYS), null, T0, T0);
    const at = new Date(T0.getTime() + HOUR);
    const incoming = { relaysPublished: at, relays: 0, exits: { US: 0, NON_US: 0 } };
    store.recordRefusal(SOURCE, at, at, incoming, 'empty', 'the snapshot lists no relays');
    const refused = store.stats(at, 3 * HOUR);
    assert.deepEqual(refused.lastRefusal, {
      at: at.toISOString(),
      reason: 'empty',
      message: 'the snapshot lists no relays',
      relaysPublished: at.toISOString(),
    });
    assert.equal(refused.relaysPublished, T0.toISOString(), 'the stored snapshot stays');
    assert.deepEqual(refused.exits, { US: 3, NON_US: 4 });
    assert.deepEqual(
      store.recentRefreshes(1).map((r) => [r.outcome, r.reason, r.error]),
      [['refused', 'empty', 'the snapshot lists no relays']],
    );
    store.storeSnapshot(SOURCE, snapshot(RELAYS, at), null, at, at);
    assert.equal(store.stats(at, 3 * HOUR).lastRefusal, undefined);
    store.close();
  });

  test('on the real 2022 consensus: 294 US and 1132 NON_US eligible exits, counted alike by store, guard and planner', async () => {
    const source = createConsensusSource(sharedConsensusFile, sharedGeoIpFile);
    const fetched = await source.fetch({ lastModified: null, relaysPublished: null });
    assert.equal(fetched.kind, 'updated');
    const store = NodeStore.open(':memory:');
    store.storeSnapshot(source, fetched.snapshot, null, T0, T0);
    const exits = { US: 294, NON_US: 1132 };
    assert.deepEqual(store.stats(T0, HOUR).exits, exits);
    assert.deepEqual(summarizeSnapshot(fetched.snapshot).exits, exits, 'the snapshot guard counts the same');
    assert.deepEqual(store.storedSnapshot()?.exits, exits);
    const GEOS: readonly [GeoSelector, string[], number, number][] = [
      ['US', [], 294, 56],
      ['NON_US', [], 1132, 292],
      ['NON_US', ['DE'], 712, 247],
      [['DE', 'NL'], [], 551, 92],
      [['US', 'DE'], ['US'], 420, 49],
    ];
    const all = store.allEligibleExits();
    for (const [geo, exclude, count, groups] of GEOS) {
      const name = `${JSON.stringify(geo)} minus ${JSON.stringify(exclude)}`;
      assert.equal(store.eligibleExits(geo, exclude).length, count, name);
      assert.equal(store.exitsFor(geo, exclude), count, `capacity of ${name}`);
      assert.equal(store.groupsFor(geo, exclude), groups, `/16 groups of ${name}`);
      assert.equal(inPoolGeo(all, geo, exclude).length, count, `the planner's exits of ${name}`);
    }
    store.close();
  });
});
