import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError } from '../errors.js';
import { createLogger } from '../logger.js';
import { waitFor } from '../wait-for.js';
import { untilAborted, type Runnable, type RunContext } from './runnable.js';
import { restartDelayMs } from './restart-backoff.js';
import { Supervisor, type SupervisorOptions } from './supervisor.js';

/** Real small runnables (timers, promises) that write what happens to them into `events`. */
function recorder() {
  const events: string[] = [];
  const lines: Record<string, unknown>[] = [];
  const log = createLogger((line) => lines.push(JSON.parse(line) as Record<string, unknown>), 'debug');
  /** Ready after `readyAfterMs` (a macrotask later, so the order is observable), then runs until stopped. */
  const serving = (name: string, readyAfterMs = 1): Runnable => ({
    name,
    async run({ signal, ready }: RunContext) {
      events.push(`start ${name}`);
      await sleep(readyAfterMs, undefined, { signal }).catch(() => undefined);
      if (signal.aborted) {
        events.push(`stop ${name} before ready`);
        return;
      }
      events.push(`ready ${name}`);
      ready();
      await untilAborted(signal);
      events.push(`stop ${name}`);
    },
  });
  /** Fails its first `failures` runs (with `error`), then serves. */
  const failing = (name: string, failures: number, error: () => Error = () => new Error(`${name} broke`)): Runnable => {
    let runs = 0;
    return {
      name,
      run(context: RunContext) {
        runs += 1;
        events.push(`run ${name} ${String(runs)}`);
        if (runs <= failures) throw error(); // a synchronous throw, not a rejection
        return serving(name, 0).run(context);
      },
    };
  };
  const start = (runnables: Runnable[], options: SupervisorOptions = {}) => {
    const stop = new AbortController();
    const supervisor = new Supervisor(runnables, { log, now: () => 0, ...options });
    const running = supervisor.run(stop.signal);
    return { supervisor, running, stop: () => (stop.abort(), running) };
  };
  const failures = (name: string) =>
    lines.filter((l) => l.msg === 'runnable failed; restarting it after a backoff' && l.runnable === name);
  return { events, lines, serving, failing, start, failures };
}

describe('supervisor', () => {
  test('starts in order, each once the one before is ready; stops in reverse', async () => {
    const r = recorder();
    const { supervisor, stop } = r.start([r.serving('api', 20), r.serving('controller'), r.serving('watch')]);
    await waitFor('all running', () => supervisor.view().every((v) => v.state === 'running'));
    await stop();
    assert.deepEqual(r.events, [
      'start api',
      'ready api',
      'start controller',
      'ready controller',
      'start watch',
      'ready watch',
      'stop watch',
      'stop controller',
      'stop api',
    ]);
    assert.deepEqual(
      supervisor.view().map((v) => [v.name, v.state]),
      [
        ['api', 'stopped'],
        ['controller', 'stopped'],
        ['watch', 'stopped'],
      ],
    );
  });

  const backoffCases = [
    { failures: 3, backoff: { baseMs: 5, maxMs: 40 }, delays: [5, 10, 20] },
    { failures: 5, backoff: { baseMs: 5, maxMs: 20 }, delays: [5, 10, 20, 20, 20] },
    { failures: 1, backoff: { baseMs: 7, maxMs: 7 }, delays: [7] },
  ];
  for (const { failures, backoff, delays } of backoffCases) {
    test(`a runnable failing ${String(failures)} times is restarted after ${delays.join(', ')} ms`, async () => {
      const r = recorder();
      const { supervisor, stop } = r.start([r.failing('refresh', failures)], { backoff });
      await waitFor('it to run again', () => supervisor.view()[0]?.state === 'running');
      await stop();
      assert.deepEqual(
        r.failures('refresh').map((l) => l.restartInMs),
        delays,
      );
      assert.equal(r.failures('refresh')[0]?.error, 'refresh broke');
      assert.equal(supervisor.view()[0]?.restarts, failures);
      assert.equal(supervisor.view()[0]?.lastError, 'refresh broke');
    });
  }

  test('a run that lasted the whole backoff cap starts the delays again at the base', async () => {
    const r = recorder();
    let clock = 0;
    const { supervisor, stop } = r.start([r.failing('watch', 3)], {
      backoff: { baseMs: 5, maxMs: 40 },
      now: () => (clock += 50), // read at start and at the failure: every run "lasts" 50 ms ≥ the 40 ms cap
    });
    await waitFor('it to run again', () => supervisor.view()[0]?.state === 'running');
    await stop();
    assert.deepEqual(
      r.failures('watch').map((l) => l.restartInMs),
      [5, 5, 5],
    );
  });

  test('restart delays: base·2^(n-1), capped, never overflowing', () => {
    const backoff = { baseMs: 1000, maxMs: 60_000 };
    assert.deepEqual(
      [0, 1, 2, 3, 6, 7, 100, 10_000].map((n) => restartDelayMs(backoff, n)),
      [1000, 1000, 2000, 4000, 32_000, 60_000, 60_000, 60_000],
    );
  });

  test('a stop during a backoff ends at once and never starts it again', async () => {
    const r = recorder();
    const { supervisor, stop } = r.start([r.serving('api'), r.failing('probe', 1)], {
      backoff: { baseMs: 3_600_000, maxMs: 3_600_000 },
    });
    await waitFor('the backoff', () => supervisor.view()[1]?.state === 'backoff');
    await stop();
    assert.deepEqual(r.events, ['start api', 'ready api', 'run probe 1', 'stop api']);
    assert.equal(supervisor.view()[1]?.state, 'stopped');
  });

  test('one runnable failing again and again never stops the others', async () => {
    const r = recorder();
    const rejecting: Runnable = {
      name: 'flaky',
      run: () => Promise.reject(new Error('flaky broke')),
    };
    const endingEarly: Runnable = { name: 'quitter', run: () => Promise.resolve() };
    const { supervisor, stop } = r.start([r.serving('api'), rejecting, endingEarly, r.serving('controller')], {
      backoff: { baseMs: 1, maxMs: 4 },
    });
    await waitFor('several restarts', () =>
      supervisor.view().every((v) => v.name === 'api' || v.name === 'controller' || v.restarts >= 3),
    );
    const [api, , , controller] = supervisor.view();
    assert.equal(api?.state, 'running');
    assert.equal(controller?.state, 'running');
    assert.equal(api.restarts, 0);
    assert.equal(r.failures('quitter')[0]?.error, 'ended before it was asked to stop');
    await stop();
    assert.deepEqual(
      r.events.filter((e) => e.endsWith('api') || e.endsWith('controller')),
      ['start api', 'ready api', 'start controller', 'ready controller', 'stop controller', 'stop api'],
    );
  });

  test('a ConfigError before the first ready ends run with it; what started is stopped, the rest never starts', async () => {
    const r = recorder();
    const taken = new ConfigError('cannot listen on 127.0.0.1:8080 (TORFLEET_LISTEN): address in use');
    const { running } = r.start([r.serving('store'), r.failing('api', 1, () => taken), r.serving('controller')]);
    await assert.rejects(running, (error) => error === taken);
    assert.deepEqual(r.events, ['start store', 'ready store', 'run api 1', 'stop store']);
  });

  test('a ConfigError of a restart (after start-up) is a failure like any other: restarted', async () => {
    const r = recorder();
    let runs = 0;
    const api: Runnable = {
      name: 'api',
      async run(context) {
        runs += 1;
        if (runs === 2) throw new ConfigError('port taken');
        context.ready();
        if (runs === 1) throw new Error('server error');
        await untilAborted(context.signal);
      },
    };
    const { supervisor, stop } = r.start([api], { backoff: { baseMs: 1, maxMs: 2 } });
    await waitFor('the third run', () => runs === 3 && supervisor.view()[0]?.state === 'running');
    await stop();
    assert.deepEqual(
      r.failures('api').map((l) => [l.error, l.code]),
      [
        ['server error', undefined],
        ['port taken', 'CONFIG_INVALID'],
      ],
    );
  });

  test('a stop while a runnable is still starting stops it and starts nothing after it', async () => {
    const r = recorder();
    const { supervisor, stop } = r.start([r.serving('refresh', 3_600_000), r.serving('controller')]);
    await waitFor('the start', () => r.events.includes('start refresh'));
    const stopped = stop();
    await stopped;
    assert.deepEqual(
      supervisor.view().map((v) => v.state),
      ['stopped', 'stopped'],
    );
    assert.deepEqual(r.events, ['start refresh', 'stop refresh before ready']);
  });

  test('two runnables with one name are refused', () => {
    const r = recorder();
    assert.throws(() => new Supervisor([r.serving('api'), r.serving('api')]), /two runnables are named "api"/);
  });
});
