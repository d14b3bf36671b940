import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_BROKER_HEALTH } from './health-settings.js';
import { emptyScore, meanLatencyMs, observe, proxyScore, successRate, type DecayingScore } from './proxy-score.js';

const settings = DEFAULT_BROKER_HEALTH; // half-life 5 min, prior 1 success, latency scale 1 s
const HALF_LIFE = settings.halfLifeMs;

/** Observations `[at, ok, latency]` from an empty score at 0. */
function scoreOf(observations: [number, boolean, number | null][]): DecayingScore {
  return observations.reduce((score, [at, ok, latency]) => observe(score, settings, at, ok, latency), emptyScore(0));
}

const close = (actual: number, expected: number, message?: string): void => {
  assert.ok(Math.abs(actual - expected) < 1e-9, `${message ?? ''} ${actual} ≉ ${expected}`);
};

describe('proxy-score: success rate decays with a half-life in time, with a prior of one success', () => {
  const cases: { name: string; observations: [number, boolean, number | null][]; at: number; rate: number }[] = [
    { name: 'nothing seen: 1', observations: [], at: 0, rate: 1 },
    { name: 'one fault: (0 + 1) / (1 + 1)', observations: [[0, false, null]], at: 0, rate: 0.5 },
    { name: 'one success', observations: [[0, true, 100]], at: 0, rate: 1 },
    {
      name: 'three successes, one fault, all now: (3 + 1) / (4 + 1)',
      observations: [
        [0, true, null],
        [0, true, null],
        [0, true, null],
        [0, false, null],
      ],
      at: 0,
      rate: 0.8,
    },
    {
      name: 'a fault one half-life ago weighs 1/2: (0 + 1) / (0.5 + 1)',
      observations: [[0, false, null]],
      at: HALF_LIFE,
      rate: 1 / 1.5,
    },
    {
      name: 'a fault one half-life before a success: (1 + 1) / (0.5 + 1 + 1)',
      observations: [
        [0, false, null],
        [HALF_LIFE, true, null],
      ],
      at: HALF_LIFE,
      rate: 2 / 2.5,
    },
    {
      name: 'a success one half-life before a fault: (0.5 + 1) / (0.5 + 1 + 1)',
      observations: [
        [0, true, null],
        [HALF_LIFE, false, null],
      ],
      at: HALF_LIFE,
      rate: 1.5 / 2.5,
    },
    {
      name: 'ten half-lives after ten faults: almost forgiven',
      observations: Array.from({ length: 10 }, (): [number, boolean, null] => [0, false, null]),
      at: 10 * HALF_LIFE,
      rate: 1 / (10 / 1024 + 1),
    },
    {
      name: 'a clock that goes back counts as no time',
      observations: [
        [HALF_LIFE, false, null],
        [0, false, null],
      ],
      at: HALF_LIFE,
      rate: 1 / 3,
    },
  ];
  for (const { name, observations, at, rate } of cases) {
    test(name, () => {
      close(successRate(scoreOf(observations), settings, at), rate);
    });
  }
});

describe('proxy-score: latency is the decayed mean over timed successes', () => {
  const cases: { name: string; observations: [number, boolean, number | null][]; latency: number | null }[] = [
    { name: 'nothing timed: null', observations: [[0, true, null]], latency: null },
    {
      name: 'a fault carries no latency',
      observations: [
        [0, true, 200],
        [0, false, 30_000],
      ],
      latency: 200,
    },
    {
      name: 'two now: their mean',
      observations: [
        [0, true, 200],
        [0, true, 400],
      ],
      latency: 300,
    },
    {
      name: 'one a half-life older weighs half: (0.5 × 1000 + 400) / 1.5',
      observations: [
        [0, true, 1000],
        [HALF_LIFE, true, 400],
      ],
      latency: 900 / 1.5,
    },
    {
      name: 'negative and non-finite latencies are ignored',
      observations: [
        [0, true, -5],
        [0, true, Number.NaN],
        [0, true, 100],
      ],
      latency: 100,
    },
  ];
  for (const { name, observations, latency } of cases) {
    test(name, () => {
      const actual = meanLatencyMs(scoreOf(observations));
      if (latency === null) assert.equal(actual, null);
      else close(actual ?? Number.NaN, latency);
    });
  }
});

describe('proxy-score: score = successRate × 1000 / (1000 + latency)', () => {
  const cases: { name: string; observations: [number, boolean, number | null][]; score: number }[] = [
    { name: 'unmeasured: 1', observations: [], score: 1 },
    { name: 'all successes, no latency: 1', observations: [[0, true, null]], score: 1 },
    { name: 'all successes at 1 s: 0.5', observations: [[0, true, 1000]], score: 0.5 },
    { name: 'all successes at 250 ms: 0.8', observations: [[0, true, 250]], score: 0.8 },
    {
      name: 'rate 2/3 at 500 ms: 2/3 × 2/3',
      observations: [
        [0, true, 500],
        [0, false, null],
      ],
      score: 4 / 9,
    },
  ];
  for (const { name, observations, score } of cases) {
    test(name, () => {
      close(proxyScore(scoreOf(observations), settings, 0), score);
    });
  }

  test('a slower proxy with no faults can lose to a faster one with a few', () => {
    const slow = scoreOf([[0, true, 2000]]);
    const fast = scoreOf([
      [0, true, 200],
      [0, true, 200],
      [0, false, null],
    ]);
    assert.ok(proxyScore(fast, settings, 0) > proxyScore(slow, settings, 0));
  });
});
