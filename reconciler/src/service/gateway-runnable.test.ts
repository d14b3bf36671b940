import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../errors.js';
import type { GatewaySpec } from '../fleet/fleet-types.js';
import type { GatewayHost } from '../gateway/gateway-host.js';
import type { GatewayInput } from '../gateway/gateway-input.js';
import { GatewayInputs } from '../gateway/gateway-inputs.js';
import type { ListenAddress } from '../listen-address.js';
import { silentLogger } from '../logger.js';
import { waitFor } from '../wait-for.js';
import { gatewayRunnable } from './gateway-runnable.js';

/** A host that records what it is asked, in order. */
function recordingHost(options: { failStart?: Error } = {}): GatewayHost & { events: string[] } {
  const events: string[] = [];
  const listenOf = (listen: ListenAddress): string => `${listen.host}:${String(listen.port)}`;
  return {
    events,
    start(listen, input) {
      events.push(`start ${listenOf(listen)} default=${String(input.gateway?.default)}`);
      return options.failStart ? Promise.reject(options.failStart) : Promise.resolve();
    },
    update(input) {
      events.push(`update default=${String(input.gateway?.default)}`);
      return Promise.resolve();
    },
    setUnusable: () => Promise.resolve(),
    metricsText: () => Promise.resolve(''),
    drain(ms) {
      events.push(`drain ${String(ms)}`);
      return Promise.resolve();
    },
  };
}

function input(defaultRoute: string, port = 8888): GatewayInput {
  const gateway: GatewaySpec = {
    listen: { host: '127.0.0.1', port },
    token: null,
    default: defaultRoute,
    upstreams: [],
    corporate: null,
  };
  return { pools: [], gateway, exitCountries: {}, nodeAddresses: {}, corporate: true };
}

async function started(host: GatewayHost, inputs: GatewayInputs, listen?: ListenAddress) {
  const stop = new AbortController();
  let isReady = false;
  const running = gatewayRunnable({ host, feed: inputs, listen, drainMs: 5 }).run({
    signal: stop.signal,
    ready: () => {
      isReady = true;
    },
    log: silentLogger,
  });
  await waitFor('gateway runnable ready', () => isReady || undefined, 2000);
  return { stop, running };
}

test('the gateway follows its input: start, new routes, a moved listener, no section, and a drain at the stop', async () => {
  const host = recordingHost();
  const inputs = new GatewayInputs();
  inputs.set(input('a'));
  const { stop, running } = await started(host, inputs);
  const step = async (next: GatewayInput | null, events: number): Promise<void> => {
    inputs.set(next);
    await waitFor(`${String(events)} events`, () => host.events.length >= events || undefined, 2000);
  };
  await step(input('a'), 1); // the same input again: nothing to do
  await step(input('b'), 2);
  await step(input('b', 8889), 4);
  await step(null, 5);
  await step(input('c'), 6);
  stop.abort();
  await running;
  assert.deepEqual(host.events, [
    'start 127.0.0.1:8888 default=a',
    'update default=b',
    'drain 5',
    'start 127.0.0.1:8889 default=b',
    'drain 5',
    'start 127.0.0.1:8888 default=c',
    'drain 5',
  ]);
});

test('no input: nothing listens until one comes; --listen wins over the fleet', async () => {
  const host = recordingHost();
  const inputs = new GatewayInputs();
  const { stop, running } = await started(host, inputs, { host: '127.0.0.2', port: 9000 });
  assert.deepEqual(host.events, []);
  inputs.set(input('a'));
  await waitFor('start', () => host.events[0], 2000);
  stop.abort();
  await running;
  assert.deepEqual(host.events, ['start 127.0.0.2:9000 default=a', 'drain 5']);
});

test('a first start that cannot listen fails the run before ready (the command exits 1)', async () => {
  const host = recordingHost({ failStart: new ConfigError('the gateway cannot listen on 127.0.0.1:8888: EADDRINUSE') });
  const inputs = new GatewayInputs();
  inputs.set(input('a'));
  const run = gatewayRunnable({ host, feed: inputs }).run({
    signal: new AbortController().signal,
    ready: () => assert.fail('ready after a failed start'),
    log: silentLogger,
  });
  await assert.rejects(run, ConfigError);
});

test('a later change that fails is logged and the gateway keeps serving what it had', async () => {
  const host = recordingHost();
  const inputs = new GatewayInputs();
  inputs.set(input('a'));
  const { stop, running } = await started(host, inputs);
  host.update = () => {
    host.events.push('update refused');
    return Promise.reject(new Error('no table'));
  };
  inputs.set(input('b'));
  await waitFor('the refusal', () => host.events.includes('update refused') || undefined, 2000);
  host.update = (next) => {
    host.events.push(`update default=${String(next.gateway?.default)}`);
    return Promise.resolve();
  };
  inputs.set(input('c'));
  await waitFor('c', () => (host.events.includes('update default=c') ? true : undefined), 2000);
  stop.abort();
  await running;
  assert.deepEqual(host.events, ['start 127.0.0.1:8888 default=a', 'update refused', 'update default=c', 'drain 5']);
});
