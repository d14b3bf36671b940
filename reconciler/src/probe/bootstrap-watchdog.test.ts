import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  decideRestarts,
  type BootstrapObservation,
  type WatchdogPolicy,
  type WatchdogState,
} from './bootstrap-watchdog.js';

const POLICY: WatchdogPolicy = { stuckAfterMs: 100, maxRestarts: 2, windowMs: 1000 };

/** One tick: at `at`, these observations (proxy "p" unless named). */
interface Tick {
  readonly at: number;
  readonly seen: readonly (Partial<BootstrapObservation> & { bootstrap: number | null })[];
  /** What the tick decides. */
  readonly restart?: readonly string[];
  readonly outOfBudget?: readonly string[];
}

function play(ticks: readonly Tick[], policy = POLICY): WatchdogState {
  let state: WatchdogState = new Map();
  ticks.forEach((tick, i) => {
    const observations = tick.seen.map((o) => ({ proxy: 'p', instance: 'a', ...o }));
    const decision = decideRestarts(state, observations, tick.at, policy);
    assert.deepEqual(
      { restart: decision.restart, outOfBudget: decision.newlyOutOfBudget },
      { restart: tick.restart ?? [], outOfBudget: tick.outOfBudget ?? [] },
      `tick ${i} at ${tick.at}`,
    );
    state = decision.state;
  });
  return state;
}

describe('decideRestarts', () => {
  const cases: { name: string; ticks: Tick[]; policy?: WatchdogPolicy }[] = [
    {
      name: 'a tor that reaches 100% is never restarted',
      ticks: [
        { at: 0, seen: [{ bootstrap: 0 }] },
        { at: 50, seen: [{ bootstrap: 50 }] },
        { at: 120, seen: [{ bootstrap: 100 }] },
        { at: 900, seen: [{ bootstrap: 100 }] },
      ],
    },
    {
      name: 'progress resets the clock; no progress for stuckAfterMs restarts it',
      ticks: [
        { at: 0, seen: [{ bootstrap: 5 }] },
        { at: 90, seen: [{ bootstrap: 10 }] },
        { at: 180, seen: [{ bootstrap: 10 }] },
        { at: 190, seen: [{ bootstrap: 10 }], restart: ['p'] },
      ],
    },
    {
      name: 'a tor that does not answer is not restarted for it; its clock starts at its first answer',
      ticks: [
        { at: 0, seen: [{ bootstrap: null }] },
        { at: 500, seen: [{ bootstrap: null }] },
        { at: 510, seen: [{ bootstrap: 5 }] },
        { at: 560, seen: [{ bootstrap: null }] },
        { at: 610, seen: [{ bootstrap: 5 }], restart: ['p'] },
      ],
    },
    {
      name: 'a new instance (recreated, restarted by the runtime) starts its clock afresh',
      ticks: [
        { at: 0, seen: [{ bootstrap: 5 }] },
        { at: 90, seen: [{ bootstrap: 5, instance: 'b' }] },
        { at: 150, seen: [{ bootstrap: 5, instance: 'b' }] },
        { at: 190, seen: [{ bootstrap: 5, instance: 'b' }], restart: ['p'] },
      ],
    },
    {
      name: 'the budget: two restarts, then left alone and reported once; the window frees it again',
      ticks: [
        { at: 0, seen: [{ bootstrap: 5 }] },
        { at: 100, seen: [{ bootstrap: 5 }], restart: ['p'] },
        { at: 150, seen: [] }, // removed; the pass has not recreated it yet
        { at: 200, seen: [{ bootstrap: 5, instance: 'b' }] },
        { at: 300, seen: [{ bootstrap: 5, instance: 'b' }], restart: ['p'] },
        { at: 350, seen: [{ bootstrap: 5, instance: 'c' }] },
        { at: 450, seen: [{ bootstrap: 5, instance: 'c' }], outOfBudget: ['p'] },
        { at: 900, seen: [{ bootstrap: 5, instance: 'c' }] },
        // the first restart (at 100) leaves the window at 1100
        { at: 1100, seen: [{ bootstrap: 5, instance: 'c' }], restart: ['p'] },
      ],
    },
    {
      name: 'a budget of 0 never restarts',
      policy: { ...POLICY, maxRestarts: 0 },
      ticks: [
        { at: 0, seen: [{ bootstrap: 5 }] },
        { at: 100, seen: [{ bootstrap: 5 }], outOfBudget: ['p'] },
        { at: 200, seen: [{ bootstrap: 5 }] },
      ],
    },
    {
      name: 'proxies are judged each on their own',
      ticks: [
        {
          at: 0,
          seen: [
            { proxy: 'x', bootstrap: 5 },
            { proxy: 'y', bootstrap: 100 },
          ],
        },
        {
          at: 100,
          seen: [
            { proxy: 'x', bootstrap: 5 },
            { proxy: 'y', bootstrap: 100 },
          ],
          restart: ['x'],
        },
      ],
    },
  ];
  for (const { name, ticks, policy } of cases)
    test(name, () => {
      play(ticks, policy);
    });

  test('an out-of-budget proxy that progresses is no longer out of budget', () => {
    const state = play(
      [
        { at: 0, seen: [{ bootstrap: 5 }] },
        { at: 100, seen: [{ bootstrap: 5 }], outOfBudget: ['p'] },
        { at: 150, seen: [{ bootstrap: 40 }] },
      ],
      { ...POLICY, maxRestarts: 0 },
    );
    assert.equal(state.get('p')?.outOfBudget, false);
  });

  test('a proxy gone for good is forgotten once its restarts leave the window', () => {
    const state = play([
      { at: 0, seen: [{ bootstrap: 5 }] },
      { at: 100, seen: [{ bootstrap: 5 }], restart: ['p'] },
      { at: 500, seen: [] },
    ]);
    assert.equal(state.size, 1);
    assert.equal(
      play([
        { at: 0, seen: [{ bootstrap: 5 }] },
        { at: 50, seen: [] },
      ]).size,
      0,
    );
  });
});
