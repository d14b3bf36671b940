import assert from 'node:assert/strict';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  symlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { TorfleetError } from '../errors.js';
import { createLogger } from '../logger.js';
import { tempDir } from '../testing/temp-dir.js';
import { moveAside, storageError } from './node-db-file.js';
import type { NodeSource } from './node-source.js';
import { NodeStore } from './node-store.js';
import type { NodeSnapshot, Relay } from './relay.js';

const SOURCE: NodeSource = {
  name: 'onionoo',
  location: 'http://127.0.0.1:1',
  fetch: () => Promise.reject(new Error('unused')),
};
const T0 = new Date('2026-11-22T10:00:00Z');
const HOUR = 3_600_000;

function relay(n: number): Relay {
  return {
    fingerprint: n.toString(16).toUpperCase().padStart(40, '0'),
    nickname: `relay${n}`,
    orAddresses: [`198.51.${n % 200}.${n % 250}:9001`],
    exitAddresses: [],
    country: n % 4 === 0 ? 'US' : 'DE',
    asNumber: null,
    flags: ['Exit', 'Running', 'Valid'],
    running: true,
    exitPolicySummary: { accept: ['80', '443'] },
    firstSeen: null,
    lastSeen: null,
  };
}

/** 3000 relays: a database of a few hundred pages, like a real one. */
const SNAPSHOT: NodeSnapshot = { relaysPublished: T0, relays: Array.from({ length: 3000 }, (_, i) => relay(i + 1)) };

/** A database holding SNAPSHOT, closed (its WAL checkpointed into the file). */
function filledDatabase(): string {
  const file = path.join(tempDir('db-file'), 'nodes.db');
  const store = NodeStore.open(file);
  store.storeSnapshot(SOURCE, SNAPSHOT, null, T0, T0);
  store.close();
  return file;
}

/** Overwrites page `page` (4096 bytes each) of `file` with garbage, as a bad disk or a stray write would. */
function corruptPage(file: string, page: number): void {
  const fd = openSync(file, 'r+');
  writeSync(fd, Buffer.alloc(4096, 0xa5), 0, 4096, 4096 * page);
  closeSync(fd);
}

function assertRecovered(store: NodeStore, file: string, problem: RegExp): void {
  const stats = store.stats(T0, HOUR);
  assert.deepEqual([stats.relays, stats.relaysPublished, stats.stale], [0, null, true], 'a fresh, empty database');
  const recovery = store.recovery;
  assert.ok(recovery, 'the store reports the recovery');
  assert.match(recovery.problem, problem);
  assert.match(recovery.movedTo, new RegExp(`^${file.replace(/[.]/g, '\\.')}\\.corrupt-\\d{4}-\\d{2}-\\d{2}T`));
  assert.ok(existsSync(recovery.movedTo), 'the bad file is kept aside for inspection');
  store.storeSnapshot(SOURCE, SNAPSHOT, null, T0, T0);
  assert.equal(store.stats(T0, HOUR).relays, 3000, 'the next refresh fills it again');
}

describe('a damaged node database is moved aside and rebuilt', () => {
  test('garbage written over data pages', () => {
    const file = filledDatabase();
    for (const page of [3, 40, 80]) corruptPage(file, page);
    const logged: { level: string; msg: string; db: string; movedTo: string }[] = [];
    const store = NodeStore.open(file, {
      log: createLogger((line) => logged.push(JSON.parse(line) as (typeof logged)[number])),
      now: () => new Date('2026-11-22T10:30:00.123Z'),
    });
    assertRecovered(store, file, /malformed|corrupt/i);
    assert.equal(store.recovery?.movedTo, `${file}.corrupt-2026-11-22T10-30-00-123Z`);
    assert.deepEqual(
      logged.map((entry) => [entry.level, entry.db, entry.movedTo]),
      [['error', file, `${file}.corrupt-2026-11-22T10-30-00-123Z`]],
      'logged loudly, once',
    );
    store.close();
  });

  test('garbage over the header page (not a database any more)', () => {
    const file = filledDatabase();
    corruptPage(file, 0);
    const store = NodeStore.open(file);
    assertRecovered(store, file, /not a database|malformed/);
    store.close();
  });

  test('a dropped table', () => {
    const file = filledDatabase();
    const db = new Database(file);
    db.exec('DROP TABLE relays');
    db.close();
    const store = NodeStore.open(file);
    assertRecovered(store, file, /table relays is missing/);
    store.close();
  });

  test('a table dropped while the store is open: the next query rebuilds', () => {
    const file = filledDatabase();
    const store = NodeStore.open(file);
    assert.equal(store.stats(T0, HOUR).relays, 3000);
    const other = new Database(file);
    other.exec('DROP TABLE relays');
    other.close();
    assertRecovered(store, file, /no such table: relays/);
    store.close();
  });

  test('a 0-byte file (truncated; a create writes the schema at once)', () => {
    const file = path.join(tempDir('db-file'), 'nodes.db');
    writeFileSync(file, '');
    const store = NodeStore.open(file);
    assertRecovered(store, file, /empty \(0 bytes\)/);
    store.close();
  });

  test('a text file', () => {
    const file = path.join(tempDir('db-file'), 'nodes.db');
    writeFileSync(file, 'these are not the relays you are looking for\n'.repeat(200));
    const store = NodeStore.open(file);
    assertRecovered(store, file, /not a database/);
    store.close();
  });

  test('its -wal and -shm go aside with it (left behind when another process still has it open)', () => {
    const file = path.join(tempDir('db-file'), 'nodes.db');
    for (const suffix of ['', '-wal', '-shm']) writeFileSync(file + suffix, suffix);
    const moved = moveAside(file, new Date('2026-11-22T10:30:00Z'));
    assert.equal(moved, `${file}.corrupt-2026-11-22T10-30-00-000Z`);
    assert.deepEqual(readdirSync(path.dirname(file)).sort(), [
      'nodes.db.corrupt-2026-11-22T10-30-00-000Z',
      'nodes.db.corrupt-2026-11-22T10-30-00-000Z-shm',
      'nodes.db.corrupt-2026-11-22T10-30-00-000Z-wal',
    ]);
  });

  test('a fresh create is not a recovery', () => {
    const file = path.join(tempDir('db-file'), 'sub', 'dir', 'nodes.db');
    const store = NodeStore.open(file);
    assert.equal(store.recovery, null);
    store.close();
    const again = NodeStore.open(file);
    assert.equal(again.recovery, null);
    again.close();
  });
});

describe('paths a node database cannot live at are refused before anything is created', () => {
  const dir = tempDir('db-path');
  mkdirSync(path.join(dir, 'a-directory'));
  symlinkSync('/proc/self', path.join(dir, 'to-proc'));
  const CASES: readonly [string, RegExp][] = [
    ['/proc/torfleet/nodes.db', /it is under \/proc, \/sys or \/dev/],
    ['/proc/self/nodes.db', /it is under \/proc/],
    ['/sys/kernel/torfleet.db', /it is under \/proc, \/sys or \/dev/],
    ['/dev/null', /it is under \/proc, \/sys or \/dev/],
    ['/dev/shm/x/torfleet.db', /it is under \/proc, \/sys or \/dev/],
    [path.join(dir, 'to-proc', 'nodes.db'), /it leads to \/proc\/\d+\/nodes\.db, under \/proc/],
    [path.join(dir, 'a-directory'), /it exists and is a directory; set TORFLEET_DB to a file path/],
  ];
  for (const [file, message] of CASES) {
    test(file, () => {
      assert.throws(
        () => NodeStore.open(file),
        (error: unknown) => {
          assert.ok(error instanceof TorfleetError);
          assert.equal(error.code, 'CONFIG_INVALID');
          assert.match(error.message, message);
          assert.ok(error.message.includes(file), 'the message names the path');
          return true;
        },
      );
    });
  }
  test('nothing was created under /proc', () => {
    assert.equal(existsSync('/proc/torfleet'), false);
  });
});

describe('storage errors name the database file', () => {
  test('a full database (SQLITE_FULL) says the disk is full, and where', () => {
    const db = new Database(':memory:');
    db.pragma('max_page_count = 2');
    db.exec('CREATE TABLE t (x BLOB)');
    let full: unknown;
    try {
      db.prepare('INSERT INTO t VALUES (?)').run(Buffer.alloc(64 * 1024));
    } catch (error) {
      full = error;
    }
    db.close();
    assert.ok(full instanceof Database.SqliteError && full.code === 'SQLITE_FULL');
    const error = storageError('/var/lib/torfleet/nodes.db', full, 'store the snapshot in');
    assert.equal(error.code, 'NODE_DB');
    assert.match(
      error.message,
      /^cannot store the snapshot in the node database \/var\/lib\/torfleet\/nodes\.db \(TORFLEET_DB\): the disk is full \(database or disk is full\); free space on the disk holding \/var\/lib\/torfleet; the stored snapshot is unchanged$/,
    );
  });

  test('ENOSPC from the file system (a write to /dev/full) too', () => {
    let enospc: unknown;
    try {
      writeFileSync('/dev/full', 'x');
    } catch (error) {
      enospc = error;
    }
    assert.equal((enospc as { code?: string } | undefined)?.code, 'ENOSPC');
    const error = storageError('data/torfleet.db', enospc, 'create the directory of');
    assert.match(
      error.message,
      /^cannot create the directory of the node database data\/torfleet\.db .*the disk is full/,
    );
  });

  test('a failing store operation is a NODE_DB error naming the file, and changes nothing', () => {
    const file = filledDatabase();
    const store = NodeStore.open(file);
    const broken: NodeSnapshot = {
      relaysPublished: new Date(T0.getTime() + HOUR),
      relays: [relay(1), { ...relay(2), fingerprint: 'SHORT' }],
    };
    assert.throws(
      () => {
        store.storeSnapshot(SOURCE, broken, null, T0, T0);
      },
      (error: unknown) =>
        error instanceof TorfleetError &&
        error.code === 'NODE_DB' &&
        error.message.startsWith(`cannot store the snapshot in the node database ${file} (TORFLEET_DB): `),
    );
    assert.equal(store.stats(T0, HOUR).relays, 3000);
    assert.equal(store.recovery, null, 'a constraint failure is not damage');
    store.close();
  });
});
