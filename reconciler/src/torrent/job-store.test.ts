import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { silentLogger } from '../logger.js';
import { openNodeDatabase } from '../nodes/node-db-file.js';
import { tempDir } from '../testing/temp-dir.js';
import { parseJobRequest, type JobRequest } from './job-request.js';
import { JobStore } from './job-store.js';

const T0 = 1_796_000_000_000;
const HASH = 'a'.repeat(64);
const open = (file = ':memory:') => openNodeDatabase(file, () => new Date(T0), silentLogger).db;

function request(over: Record<string, unknown> = {}): JobRequest {
  const parsed = parseJobRequest({
    url: 'http://127.0.0.1:8080/f.bin',
    route: 'us-strict',
    headers: { 'X-Api-Key': 'k' },
    ...over,
  });
  if (!parsed.ok) assert.fail(parsed.problem.message);
  return parsed.value;
}

describe('the content job store', () => {
  test('a job is created QUEUED with its request and TTL, and survives reopening the database file', () => {
    const file = path.join(tempDir('job-store'), 'torfleet.db');
    const db = open(file);
    const created = new JobStore(db).create('job_1', 'collector', request({ ttl: 600 }), T0);
    db.close();
    const again = open(file);
    const job = new JobStore(again).get('job_1');
    assert.deepEqual(job, created);
    assert.equal(job.status, 'QUEUED');
    assert.deepEqual(job.headers, { 'X-Api-Key': 'k' });
    assert.equal(job.expiresAt, T0 + 600_000);
    again.close();
  });

  test('moves record what they carry; a move from a status the job is no longer in does nothing', () => {
    const store = new JobStore(open());
    store.create('j', 'c', request(), T0);
    assert.equal(store.move('j', 'QUEUED', 'FETCHING', T0 + 1, { attempts: 1 }), true);
    assert.equal(store.move('j', 'QUEUED', 'FETCHING', T0 + 2), false, 'a second worker does not take it');
    assert.equal(store.progress('j', 512, T0 + 3), true);
    assert.equal(store.get('j')?.progress, 512);
    store.move('j', 'FETCHING', 'PACKAGING', T0 + 4, {
      progress: 1000,
      contentHash: HASH,
      contentSize: 1000,
      contentType: 'application/pdf',
    });
    store.move('j', 'PACKAGING', 'SEEDING', T0 + 5, { infohash: 'b'.repeat(40) });
    store.move('j', 'SEEDING', 'READY', T0 + 6);
    const job = store.get('j');
    assert.deepEqual(
      [job?.status, job?.attempts, job?.progress, job?.contentHash, job?.infohash, job?.completedAt, job?.updatedAt],
      ['READY', 1, 1000, HASH, 'b'.repeat(40), T0 + 6, T0 + 6],
    );
  });

  test('a move the status machine refuses throws', () => {
    const store = new JobStore(open());
    store.create('j', 'c', request(), T0);
    assert.throws(() => store.move('j', 'QUEUED', 'READY', T0), /QUEUED → READY is not a move a job makes/);
  });

  test('a failure keeps its message; a retry clears it', () => {
    const store = new JobStore(open());
    store.create('j', 'c', request(), T0);
    store.move('j', 'QUEUED', 'FETCHING', T0);
    store.move('j', 'FETCHING', 'QUEUED', T0 + 1, { errorMessage: 'the route refused the connection; retrying' });
    assert.equal(store.get('j')?.errorMessage, 'the route refused the connection; retrying');
    assert.equal(store.progress('j', 9, T0 + 1), false, 'no progress outside FETCHING');
    store.move('j', 'QUEUED', 'FETCHING', T0 + 2, { errorMessage: null });
    assert.equal(store.get('j')?.errorMessage, null);
    store.move('j', 'FETCHING', 'FAILED', T0 + 3, { errorMessage: 'content type video/mp4 is not allowed' });
    assert.deepEqual([store.get('j')?.status, store.get('j')?.completedAt], ['FAILED', T0 + 3]);
  });

  test('holders of a content: jobs that share it, until they fail, are cancelled or expire', () => {
    const store = new JobStore(open());
    for (const id of ['a', 'b']) {
      store.create(id, 'c', request({ ttl: id === 'a' ? 60 : 3600 }), T0);
      store.move(id, 'QUEUED', 'FETCHING', T0);
      store.move(id, 'FETCHING', 'PACKAGING', T0, { contentHash: HASH });
    }
    assert.equal(store.holders(HASH), 2);
    assert.deepEqual(
      store.expired(T0 + 61_000).map((job) => job.id),
      ['a'],
    );
    store.move('a', 'PACKAGING', 'CANCELLED', T0 + 61_000);
    assert.equal(store.holders(HASH), 1);
    assert.deepEqual(store.expired(T0 + 61_000), [], 'a cancelled job is not expired again');
    store.move('b', 'PACKAGING', 'FAILED', T0 + 62_000);
    assert.equal(store.holders(HASH), 0);
  });

  test('jobs by status in the order they came', () => {
    const store = new JobStore(open());
    store.create('late', 'c', request(), T0 + 5);
    store.create('early', 'c', request(), T0);
    assert.deepEqual(
      store.withStatus('QUEUED').map((job) => job.id),
      ['early', 'late'],
    );
  });

  test('the oldest queued jobs, as many as asked, and only queued ones', () => {
    const store = new JobStore(open());
    for (let i = 0; i < 5; i++) store.create(`j${String(i)}`, 'c', request(), T0 + i);
    store.move('j0', 'QUEUED', 'FETCHING', T0 + 10);
    assert.deepEqual(
      store.queued(2).map((job) => job.id),
      ['j1', 'j2'],
    );
    assert.equal(store.queued(100).length, 4);
    assert.equal(store.count('QUEUED'), 4);
    assert.equal(store.count('FETCHING'), 1);
  });
});
