import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ApplyResult } from '../apply/apply-plan.js';
import { TorfleetError } from '../errors.js';
import { FleetValidationError } from '../fleet/fleet-issue.js';
import type { Plan } from '../plan/plan-types.js';
import { Controller, type PassFunction } from './controller.js';

const EMPTY: ApplyResult = { done: [], failures: [], created: [] };
const plan = (revision: string): Plan => ({ formatVersion: 1, revision, changes: [], sharedTors: [], shortfalls: [] });
const tick = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A pass whose behaviour each test scripts; it records how many ran and whether two ever overlapped. */
function scripted(steps: ((n: number) => Promise<Plan>)[]): {
  pass: PassFunction;
  calls: () => number;
  overlapped: () => boolean;
} {
  let calls = 0;
  let active = 0;
  let overlapped = false;
  const pass: PassFunction = async (onRevision) => {
    active++;
    if (active > 1) overlapped = true;
    const n = calls++;
    try {
      const step = steps[Math.min(n, steps.length - 1)];
      const result = await (step ? step(n) : Promise.resolve(plan('r')));
      onRevision(result.revision);
      return { plan: result, result: EMPTY };
    } finally {
      active--;
    }
  };
  return { pass, calls: () => calls, overlapped: () => overlapped };
}

const conditionsOf = (c: Controller): string[] =>
  c.getStatus().conditions.map((x) => `${x.type}=${x.status}/${x.reason}`);

describe('Controller', () => {
  test('events during a pass coalesce into exactly one more pass, never two at once', async () => {
    const fake = scripted([async () => (await tick(30), plan('r1'))]);
    const controller = new Controller({ pass: fake.pass });
    controller.enqueue('a');
    controller.enqueue('b');
    controller.enqueue('c');
    await tick(5);
    controller.enqueue('d');
    controller.enqueue('e');
    await controller.idle();
    assert.equal(fake.calls(), 2);
    assert.equal(fake.overlapped(), false);
    // The first queued trigger names the coalesced pass (newest pass first).
    assert.deepEqual(
      controller.getStatus().passes.map((p) => p.trigger),
      ['b', 'a'],
    );
    assert.deepEqual(conditionsOf(controller), [
      'Ready=True/Succeeded',
      'Reconciling=False/Succeeded',
      'Stalled=False/Succeeded',
    ]);
    assert.equal(controller.getStatus().lastAppliedRevision, 'r1');
  });

  test('a failed pass (a generic error) is retried with backoff until it succeeds', async () => {
    const fake = scripted([
      () => Promise.reject(new TorfleetError('RUNTIME', 'generic', 'container torfleet-us-0 lost its torfleet labels')),
      () => Promise.reject(new Error('boom')),
      () => Promise.resolve(plan('r2')),
    ]);
    const controller = new Controller({ pass: fake.pass, backoff: { baseMs: 5, maxMs: 20 } });
    controller.enqueue('start');
    for (let i = 0; i < 100 && fake.calls() < 3; i++) await tick(5);
    await controller.idle();
    assert.equal(fake.calls(), 3);
    assert.deepEqual(
      controller.getStatus().passes.map((p) => [p.trigger, p.outcome, p.reason]),
      [
        ['retry', 'converged', 'Succeeded'],
        ['retry', 'failed', 'ReconcileError'],
        ['start', 'failed', 'RuntimeUnavailable'],
      ],
    );
  });

  test('an invalid fleet stalls: no retry until the next event, then it recovers by itself', async () => {
    const invalid = new FleetValidationError([
      { file: 'fleet.yaml', path: 'pools[0].mode', line: 6, column: 11, message: '"x" is not one of: strict' },
    ]);
    const fake = scripted([(n) => (n === 0 ? Promise.reject(invalid) : Promise.resolve(plan('r3')))]);
    const controller = new Controller({ pass: fake.pass, backoff: { baseMs: 1, maxMs: 1 } });
    controller.enqueue('commit');
    await controller.idle();
    await tick(30);
    assert.equal(fake.calls(), 1, 'a stalled pass is not retried');
    assert.deepEqual(conditionsOf(controller), [
      'Ready=False/InvalidFleet',
      'Reconciling=False/InvalidFleet',
      'Stalled=True/InvalidFleet',
    ]);
    const stalled = controller.getStatus().conditions.find((c) => c.type === 'Stalled');
    assert.equal(stalled?.message, 'fleet.yaml:6:11: pools[0].mode: "x" is not one of: strict');
    controller.enqueue('commit');
    await controller.idle();
    assert.deepEqual(conditionsOf(controller), [
      'Ready=True/Succeeded',
      'Reconciling=False/Succeeded',
      'Stalled=False/Succeeded',
    ]);
  });

  test('stop waits for the running pass and starts no other', async () => {
    const fake = scripted([async () => (await tick(20), plan('r4'))]);
    const controller = new Controller({ pass: fake.pass });
    controller.enqueue('a');
    await tick(2);
    controller.enqueue('b');
    await controller.stop();
    assert.equal(fake.calls(), 1);
    assert.equal(controller.getStatus().passes[0]?.outcome, 'converged');
    controller.enqueue('c');
    await tick(5);
    assert.equal(fake.calls(), 1);
  });
});
