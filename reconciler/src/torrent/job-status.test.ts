import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { contentPath } from './content-path.js';
import { afterRestart, canMove, isFinal, JOB_STATUSES, type JobStatus } from './job-status.js';

describe('content job statuses', () => {
  const ALLOWED: ReadonlyArray<[JobStatus, JobStatus]> = [
    ['QUEUED', 'FETCHING'],
    ['FETCHING', 'PACKAGING'],
    ['PACKAGING', 'SEEDING'],
    ['SEEDING', 'READY'],
    ['FETCHING', 'QUEUED'],
    ['FETCHING', 'FAILED'],
    ['QUEUED', 'CANCELLED'],
    ['FETCHING', 'CANCELLED'],
    ['READY', 'CANCELLED'],
    ['READY', 'FAILED'], // its content cannot be seeded again after a restart (the file went away)
  ];
  const REFUSED: ReadonlyArray<[JobStatus, JobStatus]> = [
    ['QUEUED', 'READY'],
    ['READY', 'FETCHING'],
    ['FAILED', 'QUEUED'],
    ['CANCELLED', 'READY'],
    ['SEEDING', 'QUEUED'],
  ];
  for (const [from, to] of ALLOWED)
    test(`${from} → ${to} allowed`, () => {
      assert.equal(canMove(from, to), true);
    });
  for (const [from, to] of REFUSED)
    test(`${from} → ${to} refused`, () => {
      assert.equal(canMove(from, to), false);
    });

  test('only FAILED and CANCELLED are final; every status leads to one', () => {
    assert.deepEqual(
      JOB_STATUSES.filter((status) => isFinal(status)),
      ['FAILED', 'CANCELLED'],
    );
    for (const status of JOB_STATUSES) assert.ok(isFinal(status) || canMove(status, 'CANCELLED'), status);
  });

  test('after a restart: work in flight again, seeding again, the rest kept', () => {
    assert.deepEqual(Object.fromEntries(JOB_STATUSES.map((status) => [status, afterRestart(status)])), {
      QUEUED: 'keep',
      FETCHING: 'requeue',
      PACKAGING: 'requeue',
      SEEDING: 'reseed',
      READY: 'reseed',
      FAILED: 'keep',
      CANCELLED: 'keep',
    });
  });
});

describe('content paths', () => {
  const HASH = 'ab'.padEnd(4, 'c') + 'd'.repeat(60);
  test('ab/cd/<hash> under the root', () => {
    assert.equal(contentPath('/data/content', HASH), `/data/content/ab/cc/${HASH}`);
  });
  for (const bad of ['', '../../etc/passwd', HASH.toUpperCase(), `${HASH}0`, `${HASH.slice(0, 62)}/x`]) {
    test(`refused: ${JSON.stringify(bad.slice(0, 20))}`, () => {
      assert.throws(() => contentPath('/data/content', bad), /not a SHA-256 hex digest/);
    });
  }
});
