import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { after, describe, test } from 'node:test';
import { startDnsSpy } from '../testing/dns-spy.js';
import { run } from '../testing/gateway-clients.js';
import { startTestEcho, startTestOrigin, testRouteTable } from '../testing/gateway-fixtures.js';
import { startTestGateway } from '../testing/gateway-harness.js';
import { waitFor } from '../wait-for.js';
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

describe('accepted connections', () => {
  // Without TCP_NODELAY an answer that reaches the gateway in two reads leaves it in two writes, and Nagle holds the
  // second for the client's delayed ACK (40 ms). Node records what it applied under its kSetNoDelay symbol; a Node
  // without that record fails this test rather than passing it unchecked.
  test('every client socket has TCP_NODELAY set', async () => {
    const accepted = new Promise<Socket>((resolve) => gw.gateway.server.once('connection', resolve));
    const client = connect(gw.port, '127.0.0.1');
    client.on('error', () => undefined);
    try {
      const socket = await accepted;
      const record = Object.getOwnPropertySymbols(socket).find((symbol) => symbol.description === 'kSetNoDelay');
      assert.ok(record, 'this Node keeps no kSetNoDelay record on its sockets: check TCP_NODELAY another way');
      assert.equal((socket as unknown as Record<symbol, unknown>)[record], true);
    } finally {
      client.destroy();
    }
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
  test('node:http keep-alive: three requests over one client connection, all over one member socket (same target)', async () => {
    const dialsBefore = gw.dialer.sockets.length;
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
    const memberSockets = gw.dialer.sockets.slice(dialsBefore);
    assert.equal(
      memberSockets.length,
      1,
      'one dial: the client connection reuses its member socket (http-forward-reuse.test.ts)',
    );
    await waitFor('the member socket closed with the client', () => memberSockets.every((socket) => socket.destroyed));
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

test('no DNS lookup of a name happened in this process during the whole file', () => {
  assert.deepEqual(spy.nameCalls(), []);
});
