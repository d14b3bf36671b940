import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backoffDelay } from './backoff.js';
import { Breaker } from './breaker.js';

const SETTINGS = { threshold: 2, baseMs: 500, maxMs: 10_000 };

describe('backoff', () => {
  test('doubles from the base to the cap, with equal jitter', () => {
    for (const [attempt, low, high] of [
      [1, 250, 500],
      [2, 500, 1000],
      [3, 1000, 2000],
      [6, 5000, 10_000],
      [20, 5000, 10_000],
    ] as const) {
      assert.equal(
        backoffDelay(attempt, 500, 10_000, () => 0),
        low,
        `attempt ${String(attempt)}`,
      );
      assert.equal(
        backoffDelay(attempt, 500, 10_000, () => 1),
        high,
        `attempt ${String(attempt)}`,
      );
    }
  });
});

describe('the breaker', () => {
  test('opens after the threshold of failures in a row, for a doubling jittered period', () => {
    const breaker = new Breaker(SETTINGS, () => 1);
    assert.equal(breaker.acquire(0), true);
    breaker.failure(0, 'timed out');
    assert.equal(breaker.state(0), 'closed', 'one failure is not enough');
    breaker.failure(10, 'timed out');
    assert.equal(breaker.state(10), 'open');
    assert.equal(breaker.acquire(10), false);
    assert.equal(breaker.openUntil, 510);
    assert.equal(breaker.state(510), 'half_open');
    assert.equal(breaker.usable(510), true);
    assert.equal(breaker.acquire(510), true, 'the probe');
    assert.equal(breaker.acquire(510), false, 'one probe at a time');
    assert.equal(breaker.usable(510), false);
    breaker.failure(600, 'refused');
    assert.equal(breaker.openUntil, 1600, 'a failed probe opens it again for twice as long');
    assert.equal(breaker.lastError, 'refused');
    assert.equal(breaker.acquire(1600), true);
    breaker.success();
    assert.deepEqual([breaker.state(1600), breaker.lastError, breaker.opens], ['closed', null, 0]);
  });

  test('a success in between resets the count; a hold keeps it out without a failure', () => {
    const breaker = new Breaker(SETTINGS);
    breaker.failure(0, 'x');
    breaker.success();
    breaker.failure(1, 'x');
    assert.equal(breaker.state(1), 'closed');
    breaker.hold(1, 5000);
    assert.equal(breaker.acquire(4000), false);
    assert.equal(breaker.state(4000), 'closed');
    assert.equal(breaker.acquire(5001), true);
  });

  test('a 4xx answer to the probe releases it without closing or opening', () => {
    const breaker = new Breaker(SETTINGS, () => 0);
    breaker.failure(0, 'x');
    breaker.failure(0, 'x');
    assert.equal(breaker.acquire(300), true);
    breaker.releaseProbe();
    assert.equal(breaker.state(300), 'half_open');
    assert.equal(breaker.acquire(300), true);
  });
});
