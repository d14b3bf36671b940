import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ApplyResult } from '../apply/apply-plan.js';
import { TorfleetError } from '../errors.js';
import { FleetValidationError } from '../fleet/fleet-issue.js';
import type { Plan } from '../plan/plan-types.js';
import { waitFor } from '../wait-for.js';
import { Controller, type PassFunction } from './controller.js';
import type { Liveness } from './status.js';

const EMPTY: ApplyResult = { done: [], failures: [], created: [] };
const plan = (revision: string): Plan => ({ formatVersion: 1, revision, changes: [], sharedTors: [], shortfalls: [] });
const NEVER = (): Promise<Plan> => new Promise<Plan>(() => undefined);
const corrupt = (): Promise<Plan> =>
  Promise.reject(
    new TorfleetError('NODE_DB', 'generic', 'cannot read the node database data/torfleet.db (TORFLEET_DB)', {
      cause: Object.assign(new Error('database disk image is malformed'), { code: 'SQLITE_CORRUPT' }),
    }),
  );
const invalidFleet = (): Promise<Plan> =>
  Promise.reject(new FleetValidationError([{ file: 'fleet.yaml', path: 'pools', line: 1, column: 1, message: 'bad' }]));
const ok = (): Promise<Plan> => Promise.resolve(plan('r1'));

/** A pass that plays `steps` in order (the last one repeats), and records the abort signals it was given. */
function scripted(steps: (() => Promise<Plan>)[]): { pass: PassFunction; calls: () => number; signals: AbortSignal[] } {
  let calls = 0;
  const signals: AbortSignal[] = [];
  const pass: PassFunction = async (onRevision, signal) => {
    signals.push(signal);
    const step = steps[Math.min(calls++, steps.length - 1)] ?? ok;
    const result = await step();
    onRevision(result.revision);
    return { plan: result, result: EMPTY };
  };
  return { pass, calls: () => calls, signals };
}

interface LivenessCase {
  readonly name: string;
  readonly steps: (() => Promise<Plan>)[];
  /** Passes to wait for before the clock moves. */
  readonly passes: number;
  readonly passTimeoutMs: number;
  readonly livenessBoundMs: number;
  /** How far the injected clock moves after those passes. */
  readonly advanceMs: number;
  readonly live: Liveness['reason'];
  readonly message?: RegExp;
  readonly ready: string;
}

const HOUR = 3_600_000;
const CASES: readonly LivenessCase[] = [
  {
    name: 'a pass that keeps failing on a corrupt node database: live within the bound',
    steps: [corrupt],
    passes: 3,
    passTimeoutMs: HOUR,
    livenessBoundMs: 60_000,
    advanceMs: 60_000,
    live: 'Progressing',
    ready: 'False/NodeDataUnavailable',
  },
  {
    name: 'a pass that keeps failing on a corrupt node database: not live past the bound, and says why',
    steps: [corrupt],
    passes: 3,
    passTimeoutMs: HOUR,
    livenessBoundMs: 60_000,
    advanceMs: 60_001,
    live: 'NoProgress',
    message:
      /^no reconcile pass has made progress for 60 s, beyond the liveness bound of 60 s \(\d+ failed passes; last: NODE_DB: NODE_DB: cannot read the node database .*: database disk image is malformed\); see GET \/status$/,
    ready: 'False/NodeDataUnavailable',
  },
  {
    name: 'an invalid fleet stalls, waiting for a human: that is not a liveness failure',
    steps: [invalidFleet],
    passes: 1,
    passTimeoutMs: HOUR,
    livenessBoundMs: 60_000,
    advanceMs: 10 * HOUR,
    live: 'Idle',
    ready: 'False/InvalidFleet',
  },
  {
    name: 'a converged controller with nothing due stays live however long it waits',
    steps: [ok],
    passes: 1,
    passTimeoutMs: HOUR,
    livenessBoundMs: 60_000,
    advanceMs: 10 * HOUR,
    live: 'Idle',
    ready: 'True/Succeeded',
  },
  {
    name: 'a pass that never resolves, with a deadline beyond the bound: the loop is wedged',
    steps: [NEVER],
    passes: 0,
    passTimeoutMs: HOUR,
    livenessBoundMs: 60_000,
    advanceMs: 60_001,
    live: 'Wedged',
    message: /^the controller is wedged: a pass has run for 60 s, beyond the liveness bound of 60 s; restart torfleet$/,
    ready: 'Unknown/Initializing',
  },
];

describe('Controller liveness (injected clock)', () => {
  for (const c of CASES) {
    test(c.name, async () => {
      let clock = Date.parse('2026-12-01T00:00:00.000Z');
      const fake = scripted(c.steps);
      const controller = new Controller({
        pass: fake.pass,
        now: () => new Date(clock),
        backoff: { baseMs: 1, maxMs: 1 },
        passTimeoutMs: c.passTimeoutMs,
        livenessBoundMs: c.livenessBoundMs,
      });
      controller.enqueue('start');
      await waitFor(`${c.passes} passes`, () => controller.getStatus().passes.length >= c.passes);
      if (c.passes > 0 && c.live !== 'Idle') assert.equal(controller.liveness().live, true);
      clock += c.advanceMs;
      const liveness = controller.liveness();
      assert.equal(liveness.reason, c.live, liveness.message);
      assert.equal(liveness.live, c.live === 'Progressing' || c.live === 'Idle');
      if (c.message) assert.match(liveness.message, c.message);
      const ready = controller.getStatus().conditions.find((x) => x.type === 'Ready');
      assert.equal(`${ready?.status ?? ''}/${ready?.reason ?? ''}`, c.ready);
      void controller.stop();
    });
  }

  test('after failures past the bound, one pass that makes progress makes it live again', async () => {
    let clock = 0;
    let broken = true;
    const fake = scripted([() => (broken ? corrupt() : ok())]);
    const controller = new Controller({
      pass: fake.pass,
      now: () => new Date(clock),
      backoff: { baseMs: 1, maxMs: 1 },
      livenessBoundMs: 1000,
    });
    controller.enqueue('start');
    await waitFor('a failed pass', () => controller.getStatus().passes.length >= 1);
    clock += 1001;
    assert.equal(controller.liveness().live, false);
    broken = false;
    await waitFor('a converged pass', () => controller.getStatus().passes[0]?.outcome === 'converged');
    await controller.idle();
    assert.equal(controller.liveness().live, true);
    assert.equal(controller.liveness().lastProgressAt, new Date(1001).toISOString());
  });
});

describe('Controller pass deadline', () => {
  test('a pass that never resolves is abandoned with a typed error, and the controller goes on', async () => {
    const fake = scripted([NEVER, ok]);
    const controller = new Controller({ pass: fake.pass, passTimeoutMs: 30, backoff: { baseMs: 1, maxMs: 1 } });
    controller.enqueue('start');
    await waitFor('the retry to converge', () => controller.getStatus().passes[0]?.outcome === 'converged');
    await controller.idle();
    const [retry, abandoned] = controller.getStatus().passes;
    assert.deepEqual(
      [abandoned?.trigger, abandoned?.outcome, abandoned?.reason, abandoned?.errorCode],
      ['start', 'failed', 'PassTimeout', 'PASS_TIMEOUT'],
    );
    assert.match(
      abandoned?.message ?? '',
      /^PASS_TIMEOUT: the pass triggered by start did not finish within 0 s \(TORFLEET_PASS_TIMEOUT\) and was abandoned/,
    );
    assert.equal(fake.signals[0]?.aborted, true, 'the abandoned pass is told to stop');
    assert.equal(fake.signals[1]?.aborted, false);
    assert.deepEqual([retry?.trigger, retry?.outcome, retry?.errorCode], ['retry', 'converged', null]);
    assert.equal(controller.liveness().live, true);
  });

  test('while passes time out, Ready is False with the reason, and the abandoned one cannot write status', async () => {
    let finishLate: (p: Plan) => void = () => undefined;
    const late = new Promise<Plan>((resolve) => {
      finishLate = resolve;
    });
    const fake = scripted([() => late, NEVER]);
    const controller = new Controller({ pass: fake.pass, passTimeoutMs: 20, backoff: { baseMs: 1, maxMs: 1 } });
    controller.enqueue('start');
    await waitFor('two abandoned passes', () => controller.getStatus().passes.length >= 2);
    const ready = controller.getStatus().conditions.find((x) => x.type === 'Ready');
    assert.deepEqual([ready?.status, ready?.reason], ['False', 'PassTimeout']);
    finishLate(plan('too-late'));
    await new Promise((resolve) => setImmediate(resolve));
    assert.notEqual(controller.getStatus().lastAttemptedRevision, 'too-late');
    assert.equal(controller.getStatus().lastAppliedRevision, null);
    void controller.stop();
  });
});
