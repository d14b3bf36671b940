import assert from 'node:assert/strict';
import { after, afterEach, describe, test } from 'node:test';
import { closed, connectTo, rawExchange, run } from '../testing/gateway-clients.js';
import { startTestEcho, startTestOrigin, testRouteTable } from '../testing/gateway-fixtures.js';
import { startTestGateway } from '../testing/gateway-harness.js';

/**
 * Clients (and targets) that break the rules, over raw sockets; after each, the gateway still serves a normal
 * request. Short handshake and header deadlines so the silent clients are closed quickly.
 */
const TOKEN = 'hostile-T0ken-99';
const origin = await startTestOrigin();
const echo = await startTestEcho();
const gw = await startTestGateway(testRouteTable(['pool-a'], { token: TOKEN }), {
  limits: { handshakeTimeoutMs: 400, headersTimeoutMs: 400 },
});
const basic = `Basic ${Buffer.from(`pool-a:${TOKEN}`).toString('base64')}`;

after(async () => {
  await gw.close();
  await origin.close();
  await echo.close();
});

afterEach(async () => {
  const out = await run('curl', [
    '-sS',
    '-x',
    `http://pool-a:${TOKEN}@127.0.0.1:${gw.port}`,
    `http://127.0.0.1:${origin.port}/after`,
  ]);
  assert.equal(out.stdout, 'GET /after 0', `the gateway still serves a normal request: ${out.stderr}`);
});

describe('garbage and half messages', () => {
  test('garbage bytes: 400 and the connection closed', async () => {
    const answer = await rawExchange(gw.port, Buffer.from('\x16\x03\x01\x02\x00garbage\r\n\r\n', 'latin1'));
    assert.equal(answer.status, 400);
  });

  test('a SOCKS5 greeting with a bad user/password version: auth failure, closed', async () => {
    const answer = await rawExchange(gw.port, Buffer.from([5, 1, 2, 9, 1, 65, 1, 66]));
    assert.deepEqual([...Buffer.from(answer.text, 'latin1')], [5, 2, 1, 1]);
  });

  test('a half request head, then silence: 408 at the header deadline', async () => {
    const answer = await rawExchange(gw.port, `GET http://127.0.0.1:${origin.port}/ HTTP/1.1\r\nHost: x\r\n`);
    assert.equal(answer.status, 408);
    assert.match(answer.text, /HTTP and SOCKS5 proxy/);
  });

  test('a connection that never sends a byte is closed at the handshake deadline', async () => {
    const socket = await connectTo(gw.port);
    await closed(socket);
    assert.equal(socket.bytesRead, 0);
  });

  test('a 100 KB header: 431', async () => {
    const answer = await rawExchange(
      gw.port,
      `GET http://127.0.0.1:${origin.port}/ HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(100 * 1024)}\r\n\r\n`,
    );
    assert.equal(answer.status, 431);
    const { text } = await gw.metrics.exposition();
    assert.match(text, /connections_total\{route="unknown",protocol="http",result="bad-request"\} [1-9]/);
  });

  test('a SOCKS5 greeting cut in the middle, then silence: closed at the handshake deadline, nothing answered', async () => {
    const answer = await rawExchange(gw.port, Buffer.from([5, 3, 0]));
    assert.equal(answer.text, '');
  });

  test('a SOCKS5 request cut in the middle after a good login: closed at the deadline', async () => {
    const user = Buffer.from('pool-a');
    const pass = Buffer.from(TOKEN);
    const login = Buffer.concat([Buffer.from([5, 1, 2, 1, user.length]), user, Buffer.from([pass.length]), pass]);
    const answer = await rawExchange(gw.port, Buffer.concat([login, Buffer.from([5, 1, 0, 3, 200, 97])]));
    assert.deepEqual([...Buffer.from(answer.text, 'latin1')], [5, 2, 1, 0]);
  });

  test('CONNECT to something that is not HOST:PORT: 400', async () => {
    const answer = await rawExchange(gw.port, `CONNECT nonsense HTTP/1.1\r\nProxy-Authorization: ${basic}\r\n\r\n`);
    assert.equal(answer.status, 400);
  });
});

test('no log line carries the token', () => {
  assert.doesNotMatch(gw.logs.join('\n'), new RegExp(TOKEN));
});

test('an Upgrade (WebSocket) request: 501 that says to use CONNECT', async () => {
  const answer = await rawExchange(
    gw.port,
    `GET http://127.0.0.1:${origin.port}/ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n`,
  );
  assert.equal(answer.status, 501);
  assert.match(answer.text, /CONNECT/);
});
