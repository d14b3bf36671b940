import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { closed, rawExchange, readBytes, run, socksConnect } from '../testing/gateway-clients.js';
import { startTestEcho, startTestOrigin, testRouteTable } from '../testing/gateway-fixtures.js';
import { startTestGateway } from '../testing/gateway-harness.js';
import { waitFor } from '../wait-for.js';
import { DialError } from './dial-types.js';

/** What the gateway answers itself: 407s, dial failures, SOCKS5 refusals, its own pages; and what it logs. */
const TOKEN = 'tok-S3cret-4711';
const ROUTES = ['us-strict', 'us-strict-2', 'provider', 'broken'];
const origin = await startTestOrigin();
const echo = await startTestEcho();
const gw = await startTestGateway(testRouteTable(ROUTES, { defaultRoute: 'us-strict', token: TOKEN }), {
  dialer: {
    hosts: { 'origin.test': '127.0.0.1' },
    fail: (r) => (r.route.name === 'broken' ? new DialError('timeout', `member m1 timed out (token ${TOKEN})`) : null),
  },
});
const proxy = (user: string) => `http://${user}:${TOKEN}@127.0.0.1:${gw.port}`;
const originUrl = `http://127.0.0.1:${origin.port}`;

after(async () => {
  await gw.close();
  await origin.close();
  await echo.close();
});

describe('proxy authentication and dial failures', () => {
  test('an unknown route: 407 with Proxy-Authenticate and the valid routes, over HTTP and CONNECT', async () => {
    const plain = await run('curl', ['-sS', '-i', '-x', proxy('nowhere'), `${originUrl}/x`]);
    assert.match(plain.stdout, /^HTTP\/1\.1 407 /);
    assert.match(plain.stdout, /Proxy-Authenticate: Basic realm="torfleet"/i);
    assert.match(plain.stdout, /Routes: us-strict, us-strict-2, provider, broken/);
    const connect = await rawExchange(
      gw.port,
      `CONNECT 127.0.0.1:${echo.port} HTTP/1.1\r\nHost: x\r\nProxy-Authorization: Basic ${Buffer.from(`nowhere:${TOKEN}`).toString('base64')}\r\n\r\n`,
    );
    assert.equal(connect.status, 407);
    assert.match(connect.text, /Routes: us-strict/);
  });

  test('a wrong or missing token: 407, and the token never shows in the body', async () => {
    const wrong = await run('curl', [
      '-sS',
      '-i',
      '-x',
      `http://us-strict:nope@127.0.0.1:${gw.port}`,
      `${originUrl}/x`,
    ]);
    assert.match(wrong.stdout, /^HTTP\/1\.1 407 /);
    assert.match(wrong.stdout, /token/);
    const none = await run('curl', ['-sS', '-i', '-x', `http://127.0.0.1:${gw.port}`, `${originUrl}/x`]);
    assert.match(none.stdout, /^HTTP\/1\.1 407 /);
    assert.doesNotMatch(wrong.stdout + none.stdout, new RegExp(TOKEN));
  });

  test('SOCKS5: a wrong token fails the subnegotiation (status 1); offering only no-auth when a token is needed: 0xFF', async () => {
    const bad = await socksConnect(
      gw.port,
      { user: 'us-strict', pass: 'nope' },
      { host: '127.0.0.1', port: echo.port },
    );
    assert.equal(bad.authStatus, 1);
    await closed(bad.socket);
    const unknown = await socksConnect(
      gw.port,
      { user: 'nowhere', pass: TOKEN },
      { host: '127.0.0.1', port: echo.port },
    );
    assert.equal(unknown.authStatus, 1);
    const anonymous = await socksConnect(gw.port, null, { host: '127.0.0.1', port: echo.port });
    assert.equal(anonymous.method, 0xff);
    await closed(anonymous.socket);
  });

  test('a dial timeout: 504 over HTTP and CONNECT, SOCKS reply 6; the reason is redacted', async () => {
    const plain = await run('curl', ['-sS', '-i', '-x', proxy('broken'), `${originUrl}/x`]);
    assert.match(plain.stdout, /^HTTP\/1\.1 504 /);
    assert.match(plain.stdout, /timed out/);
    const tunnel = await run('curl', ['-sS', '-i', '-p', '-x', proxy('broken'), `${originUrl}/x`]);
    assert.match(tunnel.stdout + tunnel.stderr, /504/);
    const socks = await socksConnect(gw.port, { user: 'broken', pass: TOKEN }, { host: '127.0.0.1', port: echo.port });
    assert.equal(socks.reply, 6);
    assert.doesNotMatch(plain.stdout + tunnel.stdout, new RegExp(TOKEN));
  });

  test('SOCKS5 BIND is answered 0x07, CONNECT to an IPv4 echo works with early data', async () => {
    const socket = await (await import('../testing/gateway-clients.js')).connectTo(gw.port);
    const user = Buffer.from('us-strict');
    const pass = Buffer.from(TOKEN);
    socket.write(
      Buffer.concat([
        Buffer.from([5, 1, 2, 1, user.length]),
        user,
        Buffer.from([pass.length]),
        pass,
        Buffer.from([5, 2, 0, 1, 127, 0, 0, 1, 0, 80]),
      ]),
    );
    const answer = await readBytes(socket, 2 + 2 + 10);
    assert.equal(answer[5], 0x07);
    const ok = await socksConnect(gw.port, { user: 'us-strict', pass: TOKEN }, { host: '127.0.0.1', port: echo.port });
    assert.equal(ok.reply, 0);
    ok.socket.write('ping');
    assert.equal((await readBytes(ok.socket, 4)).toString(), 'ping');
    ok.socket.destroy();
  });
});

describe("the gateway's own pages", () => {
  test('GET /proxy.pac: a PAC pointing at this gateway, no credential in it', async () => {
    const out = await run('curl', ['-sS', '-i', `http://127.0.0.1:${gw.port}/proxy.pac`]);
    assert.match(out.stdout, /content-type: application\/x-ns-proxy-autoconfig/i);
    assert.match(out.stdout, new RegExp(`return "PROXY 127\\.0\\.0\\.1:${gw.port}";`));
    assert.doesNotMatch(out.stdout, new RegExp(TOKEN));
  });

  test("GET /metrics: accepted by promtool, the contract's series, no token, no session, no target", async () => {
    const served = await run('curl', ['-sS', '-x', proxy('us-strict-session-abc123'), `${originUrl}/counted`]);
    assert.equal(served.stdout, 'GET /counted 0', served.stderr);
    const out = await run('curl', ['-sS', `http://127.0.0.1:${gw.port}/metrics`]);
    const dir = mkdtempSync(path.join(tmpdir(), 'gw-metrics-'));
    writeFileSync(path.join(dir, 'metrics.txt'), out.stdout);
    const check = await run('sh', ['-c', `promtool check metrics < ${path.join(dir, 'metrics.txt')}`]);
    assert.equal(check.code, 0, check.stdout + check.stderr);
    for (const name of ['connections_total', 'active_tunnels', 'bytes_total', 'connect_duration_seconds_bucket']) {
      assert.match(out.stdout, new RegExp(`^torfleet_gateway_${name}\\{`, 'm'));
    }
    assert.match(
      out.stdout,
      /torfleet_gateway_connections_total\{route="us-strict",protocol="http",result="ok"\} [1-9]/,
    );
    assert.match(
      out.stdout,
      /torfleet_gateway_connections_total\{route="unknown",protocol="http",result="unknown-route"\} [1-9]/,
    );
    assert.doesNotMatch(out.stdout, /nowhere|abc123|origin\.test|127\.0\.0\.1/);
    assert.doesNotMatch(out.stdout, new RegExp(TOKEN));
  });

  test('anything else: 404 that says this is a proxy and how to use it', async () => {
    const out = await run('curl', ['-sS', '-i', `http://127.0.0.1:${gw.port}/`]);
    assert.match(out.stdout, /^HTTP\/1\.1 404 /);
    assert.match(out.stdout, /proxy/);
    assert.match(out.stdout, /curl -x/);
  });
});

describe('logs', () => {
  test('one info line per connection with route, protocol, result, member, bytes and duration; never the token', async () => {
    const out = await run('curl', ['-sS', '-p', '-x', proxy('provider'), `${originUrl}/logged`]);
    assert.equal(out.stdout, 'GET /logged 0', out.stderr);
    const lines = () => gw.logs.map((line) => JSON.parse(line) as Record<string, unknown>);
    const ok = await waitFor('the CONNECT log line', () =>
      lines().find((l) => l.level === 'info' && l.protocol === 'connect' && l.result === 'ok'),
    );
    assert.equal(ok.route, 'provider');
    for (const key of ['route', 'member', 'bytesUp', 'bytesDown', 'durationMs']) assert.ok(key in ok, key);
    assert.equal(ok.target, undefined, 'the target only at debug');
    assert.ok(lines().some((l) => l.level === 'debug' && l.target === `127.0.0.1:${origin.port}`));
    const all = gw.logs.join('\n');
    assert.doesNotMatch(all, new RegExp(TOKEN));
    assert.doesNotMatch(all, new RegExp(Buffer.from(`us-strict:${TOKEN}`).toString('base64')));
  });
});
