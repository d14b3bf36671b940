import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backoffDelay, DEFAULT_RETRY_POLICY, isRetryableStatus, parseRetryAfter } from './retry-policy.js';

describe('backoffDelay: capped exponential with full jitter', () => {
  const CASES: readonly [retry: number, random: number, expected: number][] = [
    [1, 1, 1000],
    [2, 1, 2000],
    [3, 1, 4000],
    [5, 1, 16_000],
    [6, 1, 30_000], // capped
    [20, 1, 30_000],
    [3, 0.5, 2000],
    [3, 0, 0],
  ];
  for (const [retry, random, expected] of CASES) {
    test(`retry ${retry}, random ${random} → ${expected} ms`, () => {
      assert.equal(
        backoffDelay(DEFAULT_RETRY_POLICY, retry, () => random),
        expected,
      );
    });
  }
});

describe('parseRetryAfter', () => {
  const now = new Date('2022-11-19T10:00:00Z');
  const CASES: readonly [string | undefined, number | undefined][] = [
    [undefined, undefined],
    ['0', 0],
    ['120', 120_000],
    [' 5 ', 5000],
    ['Sat, 19 Nov 2022 10:00:30 GMT', 30_000],
    ['Sat, 19 Nov 2022 09:00:00 GMT', 0], // in the past: retry now
    ['soon', undefined],
    ['-5', undefined],
  ];
  for (const [header, expected] of CASES) {
    test(`${String(header)} → ${String(expected)}`, () => {
      assert.equal(parseRetryAfter(header, now), expected);
    });
  }
});

test('retryable statuses', () => {
  assert.deepEqual(
    [200, 304, 400, 403, 404, 408, 429, 500, 501, 502, 503, 504].filter(isRetryableStatus),
    [408, 429, 500, 502, 503, 504],
  );
});
