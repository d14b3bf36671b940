import assert from 'node:assert/strict';
import dns from 'node:dns';
import { lookup as promisesLookup } from 'node:dns/promises';
import { createServer, connect, type AddressInfo } from 'node:net';
import { test } from 'node:test';
import { startDnsSpy } from './dns-spy.js';

/** The spy must see what node itself resolves, or a test relying on "0 lookups" could not fail. */
test('the spy counts net.connect to a name (node resolves through dns.lookup) and dns.promises calls', async () => {
  const server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const spy = startDnsSpy();
  try {
    await new Promise<void>((resolve, reject) => {
      // `localhost` is answered from /etc/hosts: no packet leaves the machine.
      const socket = connect({ host: 'localhost', port: (server.address() as AddressInfo).port, family: 4 }, () => {
        socket.destroy();
        resolve();
      });
      socket.on('error', reject);
    });
    await promisesLookup('localhost', { family: 4 });
    await dns.promises.lookup('localhost', { family: 4 });
    assert.deepEqual(spy.nameCalls(), [
      'dns.lookup(localhost)',
      'dns.promises.lookup(localhost)',
      'dns.promises.lookup(localhost)',
    ]);
  } finally {
    spy.stop();
    server.close();
  }
});

test('an IP literal counts as a call but not as a name lookup; stop() puts the real functions back', () => {
  const real = dns.lookup;
  const spy = startDnsSpy();
  assert.notEqual(dns.lookup, real);
  dns.lookup('127.0.0.1', () => undefined);
  assert.deepEqual(spy.calls, ['dns.lookup(127.0.0.1)']);
  assert.deepEqual(spy.nameCalls(), []);
  spy.stop();
  assert.equal(dns.lookup, real);
});
