import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RateLimiter, type RateLimit } from './token-bucket.js';

/** Steps: at time `at` (ms), key `key` asks; `want` is true (allowed) or the Retry-After seconds. */
type Step = readonly [at: number, key: string, want: true | number];

const cases: ReadonlyArray<{ name: string; limit: RateLimit; steps: readonly Step[] }> = [
  {
    name: 'a burst, then refused until a token refills',
    limit: { perSecond: 1, burst: 3 },
    steps: [
      [0, 'a', true],
      [0, 'a', true],
      [0, 'a', true],
      [0, 'a', 1],
      [999, 'a', 1],
      [1000, 'a', true],
      [1000, 'a', 1],
    ],
  },
  {
    name: 'keys are separate',
    limit: { perSecond: 1, burst: 1 },
    steps: [
      [0, 'a', true],
      [0, 'b', true],
      [0, 'a', 1],
      [0, 'b', 1],
    ],
  },
  {
    name: 'a slow rate: Retry-After in whole seconds, rounded up',
    limit: { perSecond: 0.1, burst: 1 },
    steps: [
      [0, 'a', true],
      [0, 'a', 10],
      [2500, 'a', 8],
    ],
  },
  {
    name: 'a fast rate: never less than 1 s',
    limit: { perSecond: 100, burst: 1 },
    steps: [
      [0, 'a', true],
      [0, 'a', 1],
      [10, 'a', true],
    ],
  },
  {
    name: 'idle time refills up to the burst only',
    limit: { perSecond: 10, burst: 2 },
    steps: [
      [0, 'a', true],
      [0, 'a', true],
      [60_000, 'a', true],
      [60_000, 'a', true],
      [60_000, 'a', 1],
    ],
  },
  {
    name: 'a clock that steps back refills nothing',
    limit: { perSecond: 1, burst: 1 },
    steps: [
      [5000, 'a', true],
      [1000, 'a', 1],
    ],
  },
];

describe('RateLimiter', () => {
  for (const { name, limit, steps } of cases) {
    test(name, () => {
      let now = 0;
      const limiter = new RateLimiter(limit, () => now);
      steps.forEach(([at, key, want], index) => {
        now = at;
        const got = limiter.take(key);
        assert.deepEqual(
          got,
          want === true ? { allowed: true } : { allowed: false, retryAfterSeconds: want },
          `step ${index}`,
        );
      });
    });
  }

  test('at most maxKeys buckets; the least recently used is forgotten (and starts full again)', () => {
    const limiter = new RateLimiter({ perSecond: 1, burst: 1 }, () => 0, 2);
    assert.equal(limiter.take('a').allowed, true);
    assert.equal(limiter.take('b').allowed, true);
    assert.equal(limiter.take('a').allowed, false); // a is now the most recently used
    assert.equal(limiter.take('c').allowed, true); // b forgotten
    assert.equal(limiter.size, 2);
    assert.equal(limiter.take('a').allowed, false, 'a was kept');
    assert.equal(limiter.take('b').allowed, true, 'b starts full again');
  });

  const invalid: readonly RateLimit[] = [
    { perSecond: 0, burst: 1 },
    { perSecond: -1, burst: 1 },
    { perSecond: Number.NaN, burst: 1 },
    { perSecond: 1, burst: 0 },
  ];
  for (const limit of invalid) {
    test(`refuses ${JSON.stringify(limit)}`, () => {
      assert.throws(() => new RateLimiter(limit, () => 0), RangeError);
    });
  }
});
