import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { applyPlan } from '../apply/apply-plan.js';
import { TorfleetError } from '../errors.js';
import type { EligibleExit } from '../nodes/eligible-exit.js';
import { computePlan } from '../plan/compute-plan.js';
import { testFleet, testPool } from '../testing/fleet-fixtures.js';
import { RecordingRuntime } from '../testing/recording-runtime.js';
import { waitFor } from '../wait-for.js';
import { Controller, type ControllerOptions, type PassFunction } from './controller.js';

const EXITS: EligibleExit[] = [1, 2].map((n) => ({
  fingerprint: String(n).padStart(40, '0'),
  nickname: `e${String(n)}`,
  address: `198.51.${String(n)}.1`,
  country: 'US',
  network: `198.51.${String(n)}.0/16`,
}));
const tick = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Passes that plan two proxies against the runtime's proxies and apply through it, as reconcilePass does. */
function passThrough(
  runtime: RecordingRuntime,
  beforePass?: (n: number) => void,
): { pass: PassFunction; passes: () => number } {
  let passes = 0;
  const pass: PassFunction = async (onRevision) => {
    beforePass?.(passes);
    passes++;
    onRevision('r1');
    const plan = computePlan({
      fleet: testFleet([testPool('us', { count: 2 })]),
      revision: 'r1',
      exits: EXITS,
      observed: await runtime.list(),
      containerShape: 'shape',
    });
    const result = await applyPlan(plan, { runtime, torrcFor: () => Promise.resolve('SocksPort 1\n') });
    return { plan, result };
  };
  return { pass, passes: () => passes };
}

function controllerOver(
  runtime: RecordingRuntime,
  options: Partial<ControllerOptions> = {},
  beforePass?: (n: number) => void,
) {
  const through = passThrough(runtime, beforePass);
  // A backoff far longer than any test: a retry within the test is never a backoff unless asked for.
  const controller = new Controller({
    pass: through.pass,
    backoff: { baseMs: 3_600_000, maxMs: 3_600_000 },
    ...options,
  });
  const conditions = (): string[] => controller.getStatus().conditions.map((c) => `${c.type}=${c.status}/${c.reason}`);
  const last = () => controller.getStatus().passes[0];
  return { controller, passes: through.passes, conditions, last };
}

const imageMissing = new TorfleetError(
  'IMAGE_MISSING',
  'stalled',
  'the tor image torfleet/tor:0.4.9 is not on this Docker engine; build it with "make image"',
);

describe('Controller: the next step is decided by the failed changes’ dispositions', () => {
  test('stalled (the image missing): Stalled=True/ImageMissing, no retry; the next event recovers', async () => {
    const runtime = new RecordingRuntime()
      .failOn('preflight us-0', imageMissing)
      .failOn('preflight us-1', imageMissing);
    const { controller, passes, conditions, last } = controllerOver(runtime, { backoff: { baseMs: 1, maxMs: 1 } });
    controller.enqueue('commit');
    await controller.idle();
    await tick(30);
    assert.equal(passes(), 1, 'a stalled pass is not retried');
    assert.deepEqual(conditions(), [
      'Ready=False/ImageMissing',
      'Reconciling=False/ImageMissing',
      'Stalled=True/ImageMissing',
    ]);
    assert.deepEqual(
      [last()?.outcome, last()?.errorCode, last()?.disposition, last()?.retryInMs],
      ['stalled', 'IMAGE_MISSING', 'stalled', null],
    );
    assert.deepEqual(last()?.changes[0], {
      proxy: 'us-0',
      action: 'create',
      reason: 'new',
      error: imageMissing.message,
      code: 'IMAGE_MISSING',
      disposition: 'stalled',
    });
    const stalled = controller.getStatus().conditions.find((c) => c.type === 'Stalled');
    assert.match(stalled?.message ?? '', /^2 change\(s\) need a human: us-0: create: IMAGE_MISSING: the tor image/);
    assert.equal(controller.liveness().live, true, 'stalled is not wedged: nothing is due');

    runtime.heal('preflight us-0').heal('preflight us-1'); // "make image"
    controller.enqueue('docker event');
    await controller.idle();
    assert.deepEqual(conditions(), ['Ready=True/Succeeded', 'Reconciling=False/Succeeded', 'Stalled=False/Succeeded']);
  });

  test('waiting (Docker busy): requeued after the error’s delay, not with backoff', async () => {
    const busy = new TorfleetError('RUNTIME', 'waiting', 'docker: cannot create container', { retryAfterMs: 20 });
    const runtime = new RecordingRuntime().failOn('create us-1', busy);
    const { controller, passes, conditions, last } = controllerOver(runtime);
    controller.enqueue('start');
    await controller.idle();
    assert.deepEqual(
      [last()?.outcome, last()?.reason, last()?.errorCode, last()?.disposition, last()?.retryInMs],
      ['partial', 'RuntimeUnavailable', 'RUNTIME', 'waiting', 20],
    );
    assert.deepEqual(conditions(), [
      'Ready=False/RuntimeUnavailable',
      'Reconciling=False/RuntimeUnavailable',
      'Stalled=False/RuntimeUnavailable',
    ]);
    runtime.heal('create us-1');
    await waitFor('the retry after the wait', () => Promise.resolve(passes() === 2 && last()?.outcome === 'converged'));
    assert.deepEqual(
      controller.getStatus().passes.map((p) => [p.trigger, p.outcome]),
      [
        ['retry', 'converged'],
        ['start', 'partial'],
      ],
    );
    await controller.stop();
  });

  test('waiting without a delay of its own: the controller’s waiting delay', async () => {
    const empty = new TorfleetError('NODE_DB', 'waiting', 'the node database holds no relays yet');
    let calls = 0;
    const controller = new Controller({
      pass: () =>
        calls++ === 0
          ? Promise.reject(empty)
          : passThrough(new RecordingRuntime()).pass(() => undefined, new AbortController().signal),
      backoff: { baseMs: 3_600_000, maxMs: 3_600_000 },
      waitingDelayMs: 15,
    });
    controller.enqueue('start');
    await controller.idle();
    const first = controller.getStatus().passes[0];
    assert.deepEqual(
      [first?.outcome, first?.reason, first?.disposition, first?.retryInMs],
      ['failed', 'NodeDataUnavailable', 'waiting', 15],
    );
    await waitFor('the retry after the wait', () =>
      Promise.resolve(controller.getStatus().passes[0]?.outcome === 'converged'),
    );
    await controller.stop();
  });

  test('generic: retried with growing backoff until it succeeds', async () => {
    const runtime = new RecordingRuntime().failOn('create us-0', new Error('boom'));
    const heal = (n: number): void => {
      if (n === 2) runtime.heal('create us-0'); // the third pass finds it fixed
    };
    const { controller, last } = controllerOver(
      runtime,
      { backoff: { baseMs: 10, maxMs: 1000 }, random: () => 1 },
      heal,
    );
    controller.enqueue('start');
    await waitFor('the converged retry', () => Promise.resolve(last()?.outcome === 'converged'));
    assert.deepEqual(
      controller.getStatus().passes.map((p) => [p.trigger, p.outcome, p.reason, p.errorCode, p.retryInMs]),
      [
        ['retry', 'converged', 'Succeeded', null, null],
        ['retry', 'partial', 'ApplyFailed', 'INTERNAL', 20],
        ['start', 'partial', 'ApplyFailed', 'INTERNAL', 10],
      ],
    );
    await controller.stop();
  });

  test('mixed (one stalled, one generic): backed off for the generic one, Stalled names the other', async () => {
    const runtime = new RecordingRuntime()
      .failOn('preflight us-0', imageMissing)
      .failOn('create us-1', new Error('boom'));
    const { controller, conditions, last } = controllerOver(runtime, { random: () => 1 });
    controller.enqueue('start');
    await controller.idle();
    assert.deepEqual(conditions(), [
      'Ready=False/ApplyFailed',
      'Reconciling=False/ApplyFailed',
      'Stalled=True/ImageMissing',
    ]);
    assert.deepEqual(
      [last()?.outcome, last()?.errorCode, last()?.disposition, last()?.retryInMs],
      ['partial', 'INTERNAL', 'generic', 3_600_000],
    );
    assert.match(
      last()?.message ?? '',
      /^2 of 2 changes failed \(1 stalled, 1 generic\); us-1: create: INTERNAL: boom$/,
    );
    await controller.stop();
  });
});
