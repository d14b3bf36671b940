import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { startCountingOrigin, proxyClient } from '../testing/counting-origin.js';
import type { Socket } from 'node:net';
import { closed, connectTo } from '../testing/gateway-clients.js';
import { testRouteTable } from '../testing/gateway-fixtures.js';
import { startTestGateway } from '../testing/gateway-harness.js';
import { waitFor } from '../wait-for.js';
import { tableRedactor } from './gateway.js';

/**
 * Keep-alive on the plain-HTTP path: a member connection carries the next request of the SAME client connection
 * for the same route, session and target, and nothing else. The origin counts its TCP connections.
 */
const TOKEN = 'reuse-T0ken-31';
const origin = await startCountingOrigin((req, res, nth) => {
  if (req.url === '/close') {
    res.setHeader('Connection', 'close');
    res.end('closing');
    return true;
  }
  if (req.url === '/garbage-after') {
    res.end('then garbage', () => req.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nbad'));
    return true;
  }
  if (req.url === '/hang-up-later' && nth > 1) {
    req.socket.destroy(); // as a member that closed an idle connection just when the gateway reused it
    return true;
  }
  return false;
});
const other = await startCountingOrigin();
const gw = await startTestGateway(testRouteTable(['pool-a', 'pool-b'], { token: TOKEN }));
const auth = (user: string): string => `Basic ${Buffer.from(`${user}:${TOKEN}`).toString('base64')}`;
const url = (path: string, port = origin.port): string => `http://127.0.0.1:${port}${path}`;

after(async () => {
  await gw.close();
  await origin.close();
  await other.close();
});

/** Runs `body` with fresh counts: what the origin accepted and the dials made during it. */
async function counted(body: () => Promise<void>): Promise<{ accepted: number; dials: number }> {
  const [accepted, dials] = [origin.accepted(), gw.dialer.requests.length];
  await body();
  return { accepted: origin.accepted() - accepted, dials: gw.dialer.requests.length - dials };
}

/** Reads from `socket` until what arrived (since the call) matches `end`. */
function readUntil(socket: Socket, end: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (chunk: Buffer): void => {
      text += chunk.toString('latin1');
      if (!end.test(text)) return;
      socket.off('data', onData);
      socket.off('close', onClose);
      resolve(text);
    };
    const onClose = (): void => {
      reject(new Error(`closed after ${JSON.stringify(text)}`));
    };
    socket.on('data', onData);
    socket.once('close', onClose);
  });
}

async function metric(name: string): Promise<string> {
  const { text } = await gw.metrics.exposition();
  return text.split('\n').find((line) => line.startsWith(name)) ?? `${name} missing`;
}

describe('member connection reuse within one client connection', () => {
  test('two keep-alive requests to the same target: one member connection, both answered', async () => {
    const client = proxyClient(gw.port, auth('pool-a'));
    const seen = await counted(async () => {
      const first = await client.send(url('/one'));
      const second = await client.send(url('/two'));
      assert.equal(first.status, 200);
      assert.match(second.body, /^\/two #\d+$/);
      assert.equal(first.body.split('#')[1], second.body.split('#')[1], 'the same origin connection');
    });
    assert.deepEqual(seen, { accepted: 1, dials: 1 });
    client.close();
    await waitFor('the origin connection closed with the client', () => origin.open() === 0);
    assert.equal(
      await metric('torfleet_gateway_active_tunnels{route="pool-a"}'),
      'torfleet_gateway_active_tunnels{route="pool-a"} 0',
    );
  });

  test('two clients never share a member connection, even interleaved', async () => {
    const a = proxyClient(gw.port, auth('pool-a'));
    const b = proxyClient(gw.port, auth('pool-a'));
    const seen = await counted(async () => {
      for (let i = 0; i < 3; i++) {
        assert.equal((await a.send(url(`/a${i}`))).status, 200);
        assert.equal((await b.send(url(`/b${i}`))).status, 200);
      }
    });
    assert.deepEqual(seen, { accepted: 2, dials: 2 });
    const byClient = (prefix: string): Set<number> =>
      new Set(origin.seen.filter((s) => s.url.startsWith(`/${prefix}`)).map((s) => s.connection));
    assert.equal(byClient('a').size, 1);
    assert.equal(byClient('b').size, 1);
    assert.notDeepEqual(byClient('a'), byClient('b'));
    a.close();
    b.close();
    await waitFor('both origin connections closed', () => origin.open() === 0);
  });

  test('another target, session or route gets a new member connection', async () => {
    const client = proxyClient(gw.port, auth('pool-a'));
    const seen = await counted(async () => {
      await client.send(url('/x'));
      assert.equal((await client.send(url('/y', other.port))).body.startsWith('/y'), true); // another port
      await client.send(url('/x')); // back: the kept one was for the other target
      await client.send(url('/s'), { user: `pool-a-session-s1:${TOKEN}` });
      await client.send(url('/s'), { user: `pool-a-session-s2:${TOKEN}` });
      await client.send(url('/s'), { user: `pool-b:${TOKEN}` });
      await client.send(url('/s'), { user: `pool-b:${TOKEN}` }); // the same again: reused
    });
    assert.deepEqual(seen, { accepted: 5, dials: 6 }, 'x, y (other origin), x, s1, s2, pool-b');
    client.close();
  });

  test('after a Connection: close response, or unasked bytes from an idle member, a new connection', async () => {
    const client = proxyClient(gw.port, auth('pool-a'));
    const seen = await counted(async () => {
      assert.equal((await client.send(url('/close'))).body, 'closing');
      await client.send(url('/after-close'));
      assert.equal((await client.send(url('/garbage-after'))).body, 'then garbage');
      await waitFor('the talking member connection dropped', () => origin.open() === 1);
      assert.match((await client.send(url('/after-garbage'))).body, /^\/after-garbage #/);
    });
    assert.deepEqual(seen, { accepted: 3, dials: 3 });
    client.close();
  });

  test('a reused connection the member closed: GET retried once on a fresh one, POST answered 502', async () => {
    const client = proxyClient(gw.port, auth('pool-a'));
    const seen = await counted(async () => {
      await client.send(url('/hang-up-later'));
      const retried = await client.send(url('/hang-up-later'));
      assert.equal(retried.status, 200, retried.body);
      const post = await client.send(url('/hang-up-later'), { method: 'POST', body: 'data' });
      assert.equal(post.status, 502, 'a request with a body is not sent twice');
    });
    assert.deepEqual(seen, { accepted: 2, dials: 2 });
    client.close();
    await waitFor('no member connection left', () => origin.open() === 0);
    assert.equal(
      await metric('torfleet_gateway_active_tunnels{route="pool-a"}'),
      'torfleet_gateway_active_tunnels{route="pool-a"} 0',
    );
  });

  test('a CONNECT on a client connection never takes its idle member connection; all close with the client', async () => {
    const socket = await connectTo(gw.port);
    socket.on('error', () => undefined);
    const seen = await counted(async () => {
      socket.write(`GET ${url('/plain')} HTTP/1.1\r\nHost: x\r\nProxy-Authorization: ${auth('pool-a')}\r\n\r\n`);
      assert.match(await readUntil(socket, /\/plain #\d+$/), /^HTTP\/1\.1 200 OK\r\n/);
      socket.write(`CONNECT 127.0.0.1:${origin.port} HTTP/1.1\r\nProxy-Authorization: ${auth('pool-a')}\r\n\r\n`);
      assert.match(await readUntil(socket, /\r\n\r\n$/), /^HTTP\/1\.1 200/);
      socket.write('GET /inside HTTP/1.1\r\nHost: x\r\n\r\n');
      assert.match(await readUntil(socket, /\/inside #\d+$/), /^HTTP\/1\.1 200 OK\r\n/);
      await waitFor('two origin connections open', () => origin.open() === 2);
    });
    assert.deepEqual(seen, { accepted: 2, dials: 2 });
    socket.destroy();
    await closed(socket);
    await waitFor('every origin connection closed with the client', () => origin.open() === 0);
  });

  test('a table update: the connection keeps its routes (and its member), a new connection dials afresh', async () => {
    const client = proxyClient(gw.port, auth('pool-a'));
    const seen = await counted(async () => {
      await client.send(url('/before'));
      const table = testRouteTable(['pool-a'], { token: TOKEN });
      gw.gateway.update(table, tableRedactor(table));
      await client.send(url('/after-update'));
      const fresh = proxyClient(gw.port, auth('pool-a'));
      await fresh.send(url('/new-client'));
      fresh.close();
    });
    assert.deepEqual(seen, { accepted: 2, dials: 2 });
    client.close();
  });

  test('absolute form to an http upstream: requests for different targets share the upstream connection', async () => {
    const upstream = await startCountingOrigin(); // answers any request target: here the absolute URIs
    const viaUpstream = await startTestGateway(testRouteTable(['provider'], { token: TOKEN }), {
      dialer: { httpUpstream: { host: '127.0.0.1', port: upstream.port, authorization: 'Basic dXA6c2VjcmV0' } },
    });
    try {
      const client = proxyClient(viaUpstream.port, auth('provider'));
      await client.send('http://one.example:8080/a');
      await client.send('http://two.example/b');
      assert.deepEqual(
        upstream.seen.map((s) => s.url),
        ['http://one.example:8080/a', 'http://two.example/b'],
      );
      assert.equal(upstream.accepted(), 1);
      client.close();
      await waitFor('the upstream connection closed with the client', () => upstream.open() === 0);
    } finally {
      await viaUpstream.close();
      await upstream.close();
    }
  });

  test('an idle member connection closes after the keep-alive timeout, with its quiet client', async () => {
    const quick = await startTestGateway(testRouteTable(['pool-a'], { token: TOKEN }), {
      limits: { keepAliveTimeoutMs: 200 },
    });
    try {
      const client = proxyClient(quick.port, auth('pool-a'));
      await client.send(url('/then-quiet'));
      assert.ok(origin.open() >= 1);
      await waitFor('the idle member connection closed without the client doing anything', () => origin.open() === 0);
      assert.equal((await client.send(url('/later'))).status, 200, 'the client reconnects and is served');
      client.close();
    } finally {
      await quick.close();
    }
  });

  test('many requests on one connection: one dial, no listener piles up on the member socket', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => {
      warnings.push(warning);
    };
    process.on('warning', onWarning);
    const client = proxyClient(gw.port, auth('pool-a'));
    const seen = await counted(async () => {
      for (let i = 0; i < 40; i++) assert.equal((await client.send(url(`/n${i}`))).status, 200);
    });
    const member = gw.dialer.sockets.at(-1);
    process.off('warning', onWarning);
    assert.deepEqual(seen, { accepted: 1, dials: 1 });
    assert.deepEqual(
      warnings.map((w) => w.message),
      [],
    );
    for (const event of ['data', 'close', 'error', 'end', 'drain', 'timeout']) {
      assert.ok((member?.listenerCount(event) ?? 99) <= 3, `${event}: ${member?.listenerCount(event)} listeners`);
    }
    client.close();
  });
});
