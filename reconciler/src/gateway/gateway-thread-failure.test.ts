import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { test } from 'node:test';
import type { GatewayInput } from './gateway-input.js';
import { GatewayInputs } from './gateway-inputs.js';
import { GatewayThread } from './gateway-thread.js';
import { gatewayRunnable } from '../service/gateway-runnable.js';
import { Supervisor } from '../service/supervisor.js';
import { waitFor } from '../wait-for.js';

/**
 * `torfleet run`'s gateway thread under its supervisor: a worker that dies is noticed and started again
 * (after a moved listener too), and an address taken is retried without ending anything.
 */
const BASE = 30860; // this file's ports: 30860-30869
/** The real worker, which throws when asked for its metrics. */
const script = new URL('../testing/failing-gateway-worker.js', import.meta.url);

function input(port: number): GatewayInput {
  const gateway = { listen: { host: '127.0.0.1', port }, token: null, default: 'up', corporate: null };
  const upstreams = [{ name: 'up', protocol: 'socks5' as const, host: '127.0.0.1', port: 9, auth: null }];
  return { pools: [], gateway: { ...gateway, upstreams }, exitCountries: {}, nodeAddresses: {}, corporate: true };
}

async function serves(port: number): Promise<boolean> {
  try {
    return (await fetch(`http://127.0.0.1:${String(port)}/proxy.pac`)).status === 200;
  } catch {
    return false;
  }
}

function supervised(thread: GatewayThread, inputs: GatewayInputs) {
  const supervisor = new Supervisor(
    [gatewayRunnable({ host: thread, feed: inputs, drainMs: 100, startFailure: 'retried' })],
    { backoff: { baseMs: 50, maxMs: 200 } },
  );
  const stop = new AbortController();
  const running = supervisor.run(stop.signal);
  const restarts = (): number => supervisor.view()[0]?.restarts ?? 0;
  const state = () => supervisor.view()[0];
  return { stop: () => (stop.abort(), running), restarts, state };
}

test('failure() before any start is a pending promise, not a throw (run without a gateway section)', () => {
  const thread = new GatewayThread({ level: 'error', script });
  const failure = thread.failure(); // threw "failure() before start()": the runnable failed in a loop
  assert.ok(failure instanceof Promise);
});

test('a worker that dies is started again by the supervisor and serves again', async () => {
  const thread = new GatewayThread({ level: 'error', script });
  const inputs = new GatewayInputs();
  const service = supervised(thread, inputs);
  try {
    inputs.set(input(BASE));
    await waitFor('the gateway serves', async () => (await serves(BASE)) || undefined, 10_000);
    await thread.metricsText(); // the failing worker dies of it
    await waitFor('a restart', () => (service.restarts() === 1 ? true : undefined), 10_000);
    await waitFor('the gateway serves again', async () => (await serves(BASE)) || undefined, 10_000);
  } finally {
    await service.stop();
  }
  assert.equal(await serves(BASE), false, 'nothing listens after the stop');
});

test("a worker that dies while asked for its metrics: '' (run's /metrics stays whole), not a rejection", async () => {
  const thread = new GatewayThread({ level: 'error', script });
  await thread.start({ host: '127.0.0.1', port: BASE + 4 }, input(BASE + 4));
  const failure = thread.failure();
  assert.equal(await thread.metricsText(), ''); // rejected "the gateway worker thread exited": /metrics failed
  await assert.rejects(failure, /exited|injected/);
  await thread.drain(100);
});

test('a worker that dies after its listener moved is noticed too', async () => {
  const thread = new GatewayThread({ level: 'error', script });
  const inputs = new GatewayInputs();
  inputs.set(input(BASE + 1));
  const service = supervised(thread, inputs);
  try {
    await waitFor('serving on the first port', async () => (await serves(BASE + 1)) || undefined, 10_000);
    inputs.set(input(BASE + 2));
    await waitFor('serving on the moved port', async () => (await serves(BASE + 2)) || undefined, 10_000);
    await thread.metricsText(); // the failing worker dies of it
    // failure() was the first worker's promise: the second's death went unnoticed and nothing served.
    await waitFor('a restart', () => (service.restarts() === 1 ? true : undefined), 10_000);
    await waitFor('the moved port serves again', async () => (await serves(BASE + 2)) || undefined, 10_000);
  } finally {
    await service.stop();
  }
});

test('an address taken: the gateway is retried after a backoff, nothing else ends, and it serves once free', async () => {
  const blocker: Server = createServer();
  await new Promise<void>((resolve) => blocker.listen(BASE + 3, '127.0.0.1', resolve));
  const thread = new GatewayThread({ level: 'error', script });
  const inputs = new GatewayInputs();
  inputs.set(input(BASE + 3));
  const service = supervised(thread, inputs);
  try {
    await waitFor('a retry', () => (service.restarts() >= 2 ? true : undefined), 10_000);
    assert.match(service.state()?.lastError ?? '', /cannot listen on 127\.0\.0\.1:30863: .*EADDRINUSE/);
    await new Promise<void>((resolve) => {
      blocker.close(() => {
        resolve();
      });
    });
    await waitFor('the gateway serves', async () => (await serves(BASE + 3)) || undefined, 10_000);
  } finally {
    blocker.close();
    await service.stop();
  }
});
