import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  afterFault,
  afterSuccess,
  ejectionPhase,
  NOT_EJECTED,
  trialOpen,
  withTrialLease,
  type EjectionPhase,
  type EjectionState,
} from './ejection.js';
import { DEFAULT_BROKER_HEALTH } from './health-settings.js';

const settings = DEFAULT_BROKER_HEALTH; // 3 faults, 30 s doubling to 10 min, 20 % jitter, 2 trial leases

/** Steps: a fault (`F`, with room in the pool unless `H`: half the pool out), a success (`S`), `+N` ms of time. */
function run(steps: string[], random = 0): { state: EjectionState; now: number } {
  let state = NOT_EJECTED;
  let now = 1_000_000;
  for (const step of steps) {
    if (step === 'F' || step === 'H') state = afterFault(state, settings, now, random, step === 'F');
    else if (step === 'S') state = afterSuccess(state, now);
    else now += Number(step);
  }
  return { state, now };
}

describe('ejection: consecutive proxy faults eject, a success resets the count', () => {
  const cases: { name: string; steps: string[]; phase: EjectionPhase; faultsInRow: number }[] = [
    { name: 'two faults: still active', steps: ['F', 'F'], phase: 'active', faultsInRow: 2 },
    { name: 'three in a row: ejected', steps: ['F', 'F', 'F'], phase: 'ejected', faultsInRow: 3 },
    { name: 'a success in between', steps: ['F', 'F', 'S', 'F', 'F'], phase: 'active', faultsInRow: 2 },
    {
      name: 'faults far apart still count in a row',
      steps: ['F', '3600000', 'F', '3600000', 'F'],
      phase: 'ejected',
      faultsInRow: 3,
    },
    { name: 'cooled down: on trial', steps: ['F', 'F', 'F', '30000'], phase: 'trial', faultsInRow: 3 },
    { name: '1 ms before the end: still ejected', steps: ['F', 'F', 'F', '29999'], phase: 'ejected', faultsInRow: 3 },
    { name: 'a trial success: back', steps: ['F', 'F', 'F', '30000', 'S'], phase: 'active', faultsInRow: 0 },
    {
      name: 'a success during the cool-down ends nothing early',
      steps: ['F', 'F', 'F', '1000', 'S', '29000'],
      phase: 'trial',
      faultsInRow: 0,
    },
    {
      name: 'on trial, one fault is enough even after a success reset the count',
      steps: ['F', 'F', 'F', '1000', 'S', '29000', 'F'],
      phase: 'ejected',
      faultsInRow: 1,
    },
    {
      name: 'one fault on trial: ejected again',
      steps: ['F', 'F', 'F', '30000', 'F'],
      phase: 'ejected',
      faultsInRow: 4,
    },
  ];
  for (const { name, steps, phase, faultsInRow } of cases) {
    test(`${name}: ${steps.join(' ')}`, () => {
      const { state, now } = run(steps);
      assert.equal(ejectionPhase(state, now), phase);
      assert.equal(state.faultsInRow, faultsInRow);
    });
  }
});

describe('ejection: cool-down 30 s doubling to 10 min, jittered, forgiven after 10 min back', () => {
  const cases: { name: string; steps: string[]; random?: number; cooldown: number; ejections: number }[] = [
    { name: 'first: 30 s', steps: ['F', 'F', 'F'], cooldown: 30_000, ejections: 1 },
    { name: 'first, jitter 0.5: 27 s', steps: ['F', 'F', 'F'], random: 0.5, cooldown: 27_000, ejections: 1 },
    { name: 'failed trial: 60 s', steps: ['F', 'F', 'F', '30000', 'F'], cooldown: 60_000, ejections: 2 },
    {
      name: 'failed trials in a row: 30, 60, 120, 240, 480, 600, 600',
      steps: ['F', 'F', 'F', '30000', 'F', '60000', 'F', '120000', 'F', '240000', 'F', '480000', 'F', '600000', 'F'],
      cooldown: 600_000,
      ejections: 7,
    },
    {
      name: 'a fault during the cool-down does not escalate',
      steps: ['F', 'F', 'F', '1000', 'F', 'F', 'F'],
      cooldown: 29_000,
      ejections: 1,
    },
    {
      name: 'back, then three faults within 10 min: twice as long',
      steps: ['F', 'F', 'F', '30000', 'S', '599999', 'F', 'F', 'F'],
      cooldown: 60_000,
      ejections: 2,
    },
    {
      name: 'back for 10 min, then three faults: 30 s again',
      steps: ['F', 'F', 'F', '30000', 'S', '600000', 'F', 'F', 'F'],
      cooldown: 30_000,
      ejections: 1,
    },
  ];
  for (const { name, steps, random, cooldown, ejections } of cases) {
    test(name, () => {
      const { state, now } = run(steps, random);
      assert.equal(state.ejectedUntil - now, cooldown);
      assert.equal(state.ejections, ejections);
    });
  }
});

describe('ejection: the half-pool cap holds a proxy in instead', () => {
  test('the threshold reached without room: held by the cap, active, not ejected', () => {
    const { state, now } = run(['F', 'F', 'H']);
    assert.equal(ejectionPhase(state, now), 'active');
    assert.equal(state.heldByCap, true);
    assert.equal(state.ejections, 0);
  });
  test('held, then a fault with room: ejected', () => {
    const { state, now } = run(['F', 'F', 'H', 'F']);
    assert.equal(ejectionPhase(state, now), 'ejected');
    assert.equal(state.heldByCap, false);
  });
  test('held, then a success: no longer held', () => {
    assert.equal(run(['F', 'F', 'H', 'S']).state.heldByCap, false);
  });
  test('a failed trial without room: held, eligible for any lease (no longer on trial)', () => {
    const { state, now } = run(['F', 'F', 'F', '30000', 'H']);
    assert.equal(ejectionPhase(state, now), 'active');
    assert.equal(state.heldByCap, true);
  });
});

describe('ejection: trial leases after the cool-down', () => {
  const cooled = run(['F', 'F', 'F', '30000']);
  const cases: { name: string; leases: number[]; at: number; open: boolean }[] = [
    { name: 'none given: open', leases: [], at: 0, open: true },
    { name: 'one given: open', leases: [0], at: 0, open: true },
    { name: 'two given, no outcome: closed', leases: [0, 0], at: 0, open: false },
    { name: 'two given 59.999 s ago: closed', leases: [0, 0], at: 59_999, open: false },
    { name: 'two given a minute ago: timed out, open', leases: [0, 0], at: 60_000, open: true },
    { name: 'one old, one recent: open', leases: [0, 50_000], at: 60_000, open: true },
  ];
  for (const { name, leases, at, open } of cases) {
    test(name, () => {
      const state = leases.reduce((s, offset) => withTrialLease(s, settings, cooled.now + offset), cooled.state);
      assert.equal(trialOpen(state, settings, cooled.now + at), open);
    });
  }
  test('no trial leases while cooling down, nor for an active proxy', () => {
    const ejected = run(['F', 'F', 'F']);
    assert.equal(trialOpen(ejected.state, settings, ejected.now), false);
    assert.equal(trialOpen(NOT_EJECTED, settings, 0), false);
  });
  test('a trial success frees the trial leases and ends the trial', () => {
    const state = afterSuccess(withTrialLease(cooled.state, settings, cooled.now), cooled.now);
    assert.deepEqual([state.trial, state.trialLeases], [false, []]);
  });
});
