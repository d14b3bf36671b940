import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { startDnsSpy } from '../testing/dns-spy.js';
import { closed, rawExchange, readBytes, run, socksConnect } from '../testing/gateway-clients.js';
import { startTestEcho, startTestOrigin, testRouteTable } from '../testing/gateway-fixtures.js';
import { startTestGateway } from '../testing/gateway-harness.js';
import { DialError } from './dial-types.js';

/**
 * The three protocols on one port against real clients (curl, node:http, Python's urllib) and real loopback peers,
 * through the test-only direct dialer. The DNS spy runs for the whole file: target names reach the dialer as names.
 */
const TOKEN = 'tok-S3cret-4711';
const ROUTES = ['us-strict', 'us-strict-2', 'provider', 'broken'];
const spy = startDnsSpy();
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
  spy.stop();
});

describe('one port, three protocols (curl)', () => {
  test('HTTP absolute-URI request: forwarded in origin form, Proxy-Authorization not passed on', async () => {
    const out = await run('curl', ['-sS', '-x', proxy('us-strict'), `${originUrl}/plain?q=1`]);
    assert.equal(out.stdout, 'GET /plain?q=1 0', out.stderr);
    const seen = origin.seen.at(-1);
    assert.equal(seen?.headers['proxy-authorization'], undefined);
    assert.equal(seen?.headers['proxy-connection'], undefined);
    assert.equal(seen?.headers.host, `127.0.0.1:${origin.port}`);
  });

  test('CONNECT (curl -p): a tunnel to the origin', async () => {
    const out = await run('curl', ['-sS', '-p', '-x', proxy('us-strict-2'), `${originUrl}/tunnelled`]);
    assert.equal(out.stdout, 'GET /tunnelled 0', out.stderr);
    assert.equal(gw.dialer.requests.at(-1)?.purpose, 'tunnel');
    assert.equal(gw.dialer.requests.at(-1)?.route.name, 'us-strict-2');
  });

  test('SOCKS5 with the route as username (curl --socks5-hostname)', async () => {
    const out = await run('curl', [
      '-sS',
      '--socks5-hostname',
      `127.0.0.1:${gw.port}`,
      '-U',
      `provider:${TOKEN}`,
      `${originUrl}/socks`,
    ]);
    assert.equal(out.stdout, 'GET /socks 0', out.stderr);
    assert.equal(gw.dialer.requests.at(-1)?.route.name, 'provider');
  });

  test('a session suffix reaches the dialer; no username takes the default route', async () => {
    await run('curl', ['-sS', '-x', proxy('us-strict-session-abc123'), `${originUrl}/s`]);
    assert.equal(gw.dialer.requests.at(-1)?.session, 'abc123');
    assert.equal(gw.dialer.requests.at(-1)?.route.name, 'us-strict');
    const out = await run('curl', ['-sS', '-x', `http://:${TOKEN}@127.0.0.1:${gw.port}`, `${originUrl}/d`]);
    assert.equal(out.stdout, 'GET /d 0', out.stderr);
    assert.equal(gw.dialer.requests.at(-1)?.route.name, 'us-strict');
  });
});

describe('target names are never resolved by the gateway', () => {
  test('HTTP, CONNECT and SOCKS5 hand the name to the dialer as it was sent', async () => {
    const url = `http://origin.test:${origin.port}/named`;
    const before = gw.dialer.requests.length;
    const lookups = spy.calls.length;
    for (const args of [
      ['-x', proxy('us-strict')],
      ['-p', '-x', proxy('us-strict')],
      ['--socks5-hostname', `127.0.0.1:${gw.port}`, '-U', `us-strict:${TOKEN}`],
    ]) {
      const out = await run('curl', ['-sS', ...args, url]);
      assert.equal(out.stdout, 'GET /named 0', out.stderr);
    }
    const hosts = gw.dialer.requests.slice(before).map((r) => r.target.host);
    assert.deepEqual(hosts, ['origin.test', 'origin.test', 'origin.test']);
    assert.deepEqual(spy.calls.slice(lookups), [], 'no DNS call at all while the gateway served the names');
  });
});

describe('HTTP forwarding', () => {
  test('node:http keep-alive: three requests over one client connection', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const auth = `Basic ${Buffer.from(`us-strict:${TOKEN}`).toString('base64')}`;
    const reused: boolean[] = [];
    for (const n of [1, 2, 3]) {
      const body = await new Promise<string>((resolve, reject) => {
        const req = request(
          {
            host: '127.0.0.1',
            port: gw.port,
            path: `${originUrl}/ka${n}`,
            agent,
            headers: { 'Proxy-Authorization': auth },
          },
          (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => (text += chunk));
            res.on('end', () => {
              resolve(text);
            });
          },
        );
        req.on('error', reject);
        req.on('socket', () => reused.push(req.reusedSocket));
        req.end();
      });
      assert.equal(body, `GET /ka${n} 0`);
    }
    agent.destroy();
    assert.deepEqual(reused, [false, true, true]);
  });

  test('a POST body streams: the origin has the first half before the client sends the second', async () => {
    let firstHalf: () => void = () => undefined;
    const gotFirst = new Promise<void>((resolve) => (firstHalf = resolve));
    const streaming = await startTestOrigin((req, res) => {
      let bytes = 0;
      req.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes >= 1024 * 1024) firstHalf();
      });
      req.on('end', () => res.end(`got ${bytes}`));
      return true;
    });
    const auth = `Basic ${Buffer.from(`us-strict:${TOKEN}`).toString('base64')}`;
    const answer = new Promise<string>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: gw.port,
          method: 'POST',
          path: `http://127.0.0.1:${streaming.port}/up`,
          headers: { 'Proxy-Authorization': auth },
        },
        (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString()));
          res.on('end', () => {
            resolve(text);
          });
        },
      );
      req.on('error', reject);
      req.write(Buffer.alloc(1024 * 1024, 1));
      void gotFirst.then(() => req.end(Buffer.alloc(1024 * 1024, 2)));
    });
    assert.equal(await answer, `got ${2 * 1024 * 1024}`);
    await streaming.close();
  });

  test('Python urllib through the gateway', async () => {
    const script = [
      'import sys, urllib.request',
      `h = urllib.request.ProxyHandler({"http": "${proxy('provider')}"})`,
      `print(urllib.request.build_opener(h).open("${originUrl}/py", data=b"abc", timeout=20).read().decode(), end="")`,
    ].join('\n');
    const out = await run('python3', ['-c', script]);
    assert.equal(out.stdout, 'POST /py 3', out.stderr);
  });

  test("an HTTP upstream member gets the absolute form and the dialer's credentials, not the client's", async () => {
    const upstream = await startTestOrigin();
    const viaUpstream = await startTestGateway(testRouteTable(['provider']), {
      dialer: { httpUpstream: { host: '127.0.0.1', port: upstream.port, authorization: 'Basic dXA6c2VjcmV0' } },
    });
    const out = await run('curl', [
      '-sS',
      '-x',
      `http://provider:x@127.0.0.1:${viaUpstream.port}`,
      `http://origin.test:81/abs?x=1`,
    ]);
    assert.equal(out.stdout, 'GET http://origin.test:81/abs?x=1 0', out.stderr);
    assert.equal(upstream.seen.at(-1)?.headers['proxy-authorization'], 'Basic dXA6c2VjcmV0');
    await viaUpstream.close();
    await upstream.close();
  });
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
  test('one info line per connection with route, protocol, result, member, bytes and duration; never the token', () => {
    const lines = gw.logs.map((line) => JSON.parse(line) as Record<string, unknown>);
    const ok = lines.find((l) => l.level === 'info' && l.protocol === 'connect' && l.result === 'ok');
    assert.ok(ok, 'an info line for a CONNECT');
    for (const key of ['route', 'member', 'bytesUp', 'bytesDown', 'durationMs']) assert.ok(key in ok, key);
    assert.equal(ok.target, undefined, 'the target only at debug');
    assert.ok(lines.some((l) => l.level === 'debug' && typeof l.target === 'string'));
    const all = gw.logs.join('\n');
    assert.doesNotMatch(all, new RegExp(TOKEN));
    assert.doesNotMatch(all, new RegExp(Buffer.from(`us-strict:${TOKEN}`).toString('base64')));
  });
});

test('no DNS lookup of a name happened in this process during the whole file', () => {
  assert.deepEqual(spy.nameCalls(), []);
});
