import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, test } from 'node:test';
import { closed, connectTo, readBytes, run, socksConnect } from '../testing/gateway-clients.js';
import { startTestEcho, startTestOrigin, testRouteTable } from '../testing/gateway-fixtures.js';
import { startTestGateway } from '../testing/gateway-harness.js';
import { Redactor } from './redact.js';
import { tableRedactor } from './gateway.js';

/** Route table swaps and the drain: open tunnels survive a swap; a drain waits for them, then ends them. */
const echo = await startTestEcho();
const origin = await startTestOrigin();
const basic = (user: string): string => `Basic ${Buffer.from(`${user}:x`).toString('base64')}`;

after(async () => {
  await echo.close();
  await origin.close();
});

async function tunnel(port: number, route: string): Promise<{ socket: Socket; status: string }> {
  const socket = await connectTo(port);
  socket.on('error', () => undefined);
  socket.write(`CONNECT 127.0.0.1:${echo.port} HTTP/1.1\r\nHost: x\r\nProxy-Authorization: ${basic(route)}\r\n\r\n`);
  const head = (await readBytes(socket, 12)).toString();
  return { socket, status: head.slice(9, 12) };
}

async function echoes(socket: Socket, text: string): Promise<boolean> {
  const rest = 'HTTP/1.1 200 Connection established\r\n\r\n'.length - 12;
  if (socket.bytesRead <= 12) await readBytes(socket, rest);
  socket.write(text);
  return (await readBytes(socket, text.length)).toString() === text;
}

test('a table swap: an open tunnel on a removed route keeps working, new connections see the new table', async () => {
  const gw = await startTestGateway(testRouteTable(['old', 'kept'], { defaultRoute: null }));
  const open = await tunnel(gw.port, 'old');
  assert.equal(open.status, '200');
  assert.equal(await echoes(open.socket, 'before'), true);
  gw.gateway.update(testRouteTable(['kept', 'added'], { defaultRoute: null }), new Redactor([]));
  assert.equal(await echoes(open.socket, 'after the swap'), true);
  assert.equal((await tunnel(gw.port, 'old')).status, '407');
  assert.equal((await tunnel(gw.port, 'added')).status, '200');
  const metrics = await run('curl', ['-sS', `http://127.0.0.1:${gw.port}/metrics`]);
  assert.match(metrics.stdout, /torfleet_gateway_active_tunnels\{route="added"\} 1/);
  open.socket.destroy();
  await gw.close();
});

test('drain: refuses new connections, waits for an open tunnel, closes it at the deadline', async () => {
  const gw = await startTestGateway(testRouteTable(['pool']));
  const open = await tunnel(gw.port, 'pool');
  assert.equal(await echoes(open.socket, 'x'), true);
  let drained = false;
  const draining = gw.gateway.drain(1500).then(() => (drained = true));
  const refused = await new Promise<string>((resolve) => {
    const probe = connect(gw.port, '127.0.0.1', () => {
      resolve('connected');
    });
    probe.on('error', (error: NodeJS.ErrnoException) => {
      resolve(error.code ?? 'error');
    });
  });
  assert.equal(refused, 'ECONNREFUSED');
  assert.equal(await echoes(open.socket, 'still open while draining'), true);
  assert.equal(drained, false);
  await closed(open.socket);
  await draining;
  assert.equal(gw.gateway.openTunnels(), 0);
});

test('drain resolves as soon as the last tunnel closes, long before its deadline', async () => {
  const gw = await startTestGateway(testRouteTable(['pool']));
  const open = await tunnel(gw.port, 'pool');
  assert.equal(await echoes(open.socket, 'x'), true);
  let drained = false;
  const draining = gw.gateway.drain(600_000).then(() => (drained = true));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(drained, false);
  open.socket.destroy();
  await draining;
  assert.equal(gw.gateway.openTunnels(), 0);
});

test('drain closes idle keep-alive HTTP connections at once', async () => {
  const gw = await startTestGateway(testRouteTable(['pool']));
  const socket = await connectTo(gw.port);
  socket.write(`GET http://127.0.0.1:${origin.port}/ka HTTP/1.1\r\nHost: x\r\n\r\n`);
  const answer = await readBytes(socket, 20);
  assert.match(answer.toString(), /^HTTP\/1\.1 200 /);
  await gw.gateway.drain(600_000);
  await closed(socket);
});

test('a token change: an open SOCKS5 tunnel keeps working; new SOCKS5 logins need the new token', async () => {
  const gw = await startTestGateway(testRouteTable(['pool'], { token: 'old-T0ken' }));
  const target = { host: '127.0.0.1', port: echo.port };
  const open = await socksConnect(gw.port, { user: 'pool', pass: 'old-T0ken' }, target);
  assert.deepEqual([open.authStatus, open.reply], [0, 0]);
  assert.equal(await echoed(open.socket, 'before'), true);
  const table = testRouteTable(['pool'], { token: 'new-T0ken' });
  gw.gateway.update(table, tableRedactor(table));
  assert.equal(await echoed(open.socket, 'after the change'), true);
  const stale = await socksConnect(gw.port, { user: 'pool', pass: 'old-T0ken' }, target);
  assert.notEqual(stale.authStatus, 0, 'the old token is refused (RFC 1929: a non-zero status)');
  await closed(stale.socket);
  const fresh = await socksConnect(gw.port, { user: 'pool', pass: 'new-T0ken' }, target);
  assert.deepEqual([fresh.authStatus, fresh.reply], [0, 0]);
  assert.equal(await echoed(fresh.socket, 'new'), true);
  open.socket.destroy();
  fresh.socket.destroy();
  await gw.close();
});

/** Whether `text` comes back through a SOCKS5 tunnel to the echo server. */
async function echoed(socket: Socket, text: string): Promise<boolean> {
  socket.write(text);
  return (await readBytes(socket, text.length)).toString() === text;
}
