import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TokenBucket } from './token-bucket.js';

const KiB = 1024;

describe('the upload token bucket', () => {
  test('rate 0 is unlimited', async () => {
    const bucket = new TokenBucket(0, 0);
    const started = Date.now();
    for (let i = 0; i < 1000; i++) await bucket.take(128 * KiB);
    assert.ok(Date.now() - started < 1000);
  });

  test('the rate holds over many takes (100 KiB at 50 KiB/s with a 10 KiB burst takes at least ~1.8 s)', async () => {
    const bucket = new TokenBucket(50 * KiB, 10 * KiB);
    const started = Date.now();
    await Promise.all(Array.from({ length: 10 }, () => bucket.take(10 * KiB)));
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 1500, `took ${String(elapsed)} ms`);
    assert.ok(elapsed < 10_000, `took ${String(elapsed)} ms`);
  });

  test('a take larger than the burst passes once the bucket is full, leaving it in debt', async () => {
    const bucket = new TokenBucket(100 * KiB, 16 * KiB);
    await bucket.take(64 * KiB); // full bucket: goes at once, 48 KiB of debt
    const started = Date.now();
    await bucket.take(16 * KiB); // waits for the debt and a full bucket: ~640 ms
    assert.ok(Date.now() - started >= 400);
  });

  test('takes go in the order asked; an aborted one is let go without taking', async () => {
    const bucket = new TokenBucket(20 * KiB, 10 * KiB);
    await bucket.take(10 * KiB);
    const order: string[] = [];
    const aborted = new AbortController();
    const a = bucket.take(10 * KiB).then(() => order.push('a'));
    const b = bucket.take(10 * KiB, aborted.signal).then(() => order.push('b'));
    const c = bucket.take(10 * KiB).then(() => order.push('c'));
    aborted.abort();
    await Promise.all([a, b, c]);
    assert.deepEqual(order, ['b', 'a', 'c']);
  });

  test('close lets every waiter go', async () => {
    const bucket = new TokenBucket(1, 1);
    await bucket.take(1);
    const waiting = bucket.take(1_000_000);
    bucket.close();
    await waiting;
  });
});
