import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { ConfigError } from '../errors.js';
import { Secret } from '../fleet/secret.js';
import type { GatewayInput } from './gateway-input.js';
import { GatewayThread } from './gateway-thread.js';

/** `torfleet run`'s gateway in its worker thread: the same service, driven by messages. */
const BASE = 30730; // this file's port block: 30730-30739

function input(defaultRoute: string): GatewayInput {
  return {
    pools: [],
    gateway: {
      listen: { host: '127.0.0.1', port: BASE },
      token: new Secret('thread-token-5e1-a7c3d9'),
      default: defaultRoute,
      upstreams: [
        { name: 'up', protocol: 'socks5', host: '127.0.0.1', port: 9, auth: new Secret('u:thread-pass-77') },
        { name: 'other', protocol: 'http', host: '127.0.0.1', port: 9, auth: null },
      ],
      corporate: null,
    },
    exitCountries: {},
    nodeAddresses: {},
    corporate: true,
  };
}

test('the worker serves the PAC file and its metrics, takes new routes, and drains', async () => {
  const thread = new GatewayThread({ level: 'error' });
  await thread.start({ host: '127.0.0.1', port: BASE }, input('up'));
  try {
    const pac = await fetch(`http://127.0.0.1:${String(BASE)}/proxy.pac`);
    assert.equal(pac.status, 200);
    assert.match(await pac.text(), /PROXY 127\.0\.0\.1:30730/);
    await thread.update(input('other'));
    await thread.setUnusable(['nothing-0']);
    const metrics = await thread.metricsText();
    assert.match(metrics, /^# TYPE torfleet_gateway_connections_total counter$/m);
    assert.ok(
      !metrics.includes('thread-pass-77') && !metrics.includes('thread-token-5e1-a7c3d9'),
      'no secret in metrics',
    );
  } finally {
    await thread.drain(1000);
  }
  await assert.rejects(fetch(`http://127.0.0.1:${String(BASE)}/proxy.pac`), 'nothing listens after the drain');
  assert.equal(await thread.metricsText(), '', 'no worker, no metrics');
});

test('an address already taken comes back as a ConfigError (the service refuses to start)', async () => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(BASE + 1, '127.0.0.1', resolve));
  const thread = new GatewayThread({ level: 'error' });
  try {
    await assert.rejects(thread.start({ host: '127.0.0.1', port: BASE + 1 }, input('up')), ConfigError);
  } finally {
    await thread.drain(100);
    blocker.close();
  }
});
