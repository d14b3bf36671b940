import assert from 'node:assert/strict';
import { Cancel } from './cancel.js';
import type { Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { Secret } from '../fleet/secret.js';
import { readUntil, startEchoTarget, TARGET_BANNER } from '../testing/echo-target.js';
import { startTinyproxy, type ProxyDaemon } from '../testing/proxy-daemons.js';
import { ScriptedPeer } from '../testing/scripted-peer.js';
import { tempDir } from '../testing/temp-dir.js';
import type { DialFailureReason } from './dial-types.js';
import { startHop } from './hop-deadline.js';
import { basicAuthorization } from './hop-credentials.js';
import { HopError } from './hop-error.js';
import { httpConnect } from './http-connect-client.js';
import type { Target } from './route-types.js';
import { connectTcp } from './tcp-connect.js';

const WHAT = 'test proxy';
const nothing = (): Promise<number> => Promise.resolve(0);

async function throughConnect<T>(
  port: number,
  target: Target,
  authorization: string | null,
  use: (socket: Socket) => Promise<T>,
): Promise<T> {
  const hop = startHop(new Cancel(), 5_000);
  const socket = await connectTcp('127.0.0.1', port, hop.cancel, WHAT);
  try {
    await httpConnect(socket, target, authorization, hop.cancel, WHAT);
    return await use(socket);
  } finally {
    hop.end();
    socket.destroy();
  }
}

async function failure(promise: Promise<unknown>): Promise<HopError> {
  const error = await promise.then(
    () => assert.fail('CONNECT succeeded'),
    (thrown: unknown) => thrown,
  );
  assert.ok(error instanceof HopError, `a HopError, got ${String(error)}`);
  return error;
}

/** An HTTP proxy that records each request head and answers `answer` to it. */
async function scriptedProxy(answer: string | Buffer): Promise<{ peer: ScriptedPeer; heads: string[] }> {
  const heads: string[] = [];
  const peer = await ScriptedPeer.start((socket) => {
    let text = '';
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if (!text.includes('\r\n\r\n')) return;
      heads.push(text);
      socket.write(answer);
    });
  });
  return { peer, heads };
}

describe('httpConnect against tinyproxy with Basic auth (real peer)', () => {
  const login = new Secret('corp-user:corp-pass-7');
  let echo: ScriptedPeer;
  let proxy: ProxyDaemon;
  before(async () => {
    echo = await startEchoTarget();
    proxy = await startTinyproxy(tempDir('gw-connect'), 'corp', { user: 'corp-user', password: 'corp-pass-7' });
  });
  after(async () => {
    await Promise.all([proxy.stop(), echo.close()]);
  });

  test('200: a tunnel to the target, both ways', async () => {
    const target = { host: '127.0.0.1', port: echo.port };
    const text = await throughConnect(proxy.port, target, basicAuthorization(login), async (socket) => {
      await readUntil(socket, TARGET_BANNER);
      socket.write('ping\n');
      return readUntil(socket, 'ping\n');
    });
    assert.match(text, /ping/);
  });

  test('wrong or missing credentials: upstream-auth (tinyproxy 1.11 answers 401 to CONNECT, others 407)', async () => {
    const target = { host: '127.0.0.1', port: echo.port };
    for (const authorization of [basicAuthorization(new Secret('corp-user:wrong')), null]) {
      const error = await failure(throughConnect(proxy.port, target, authorization, nothing));
      assert.equal(error.reason, 'upstream-auth');
      assert.match(error.message, /40[17]/);
    }
  });

  test('a closed target port: target-unreachable, the proxy answered', async () => {
    const closed = await ScriptedPeer.start(() => undefined);
    const port = closed.port;
    await closed.close();
    const error = await failure(
      throughConnect(proxy.port, { host: '127.0.0.1', port }, basicAuthorization(login), nothing),
    );
    assert.deepEqual([error.reason, error.proxyAnswered], ['target-unreachable', true], error.message);
  });
});

describe('httpConnect request and answers (scripted proxies)', () => {
  test('the request: CONNECT authority, Host, and Proxy-Authorization only when set; IPv6 in brackets', async () => {
    const { peer, heads } = await scriptedProxy('HTTP/1.1 200 Connection established\r\n\r\n');
    try {
      await throughConnect(peer.port, { host: '2001:db8::7', port: 443 }, 'Basic dTpw', nothing);
      await throughConnect(peer.port, { host: 'example.test', port: 80 }, null, nothing);
      assert.deepEqual(heads, [
        'CONNECT [2001:db8::7]:443 HTTP/1.1\r\nHost: [2001:db8::7]:443\r\nProxy-Authorization: Basic dTpw\r\n\r\n',
        'CONNECT example.test:80 HTTP/1.1\r\nHost: example.test:80\r\n\r\n',
      ]);
    } finally {
      await peer.close();
    }
  });

  test('bytes right after the 200 head are the tunnel’s (unshifted, none lost)', async () => {
    const { peer } = await scriptedProxy('HTTP/1.0 200 OK\r\nX-A: 1\r\n\r\nEARLY-BYTES');
    try {
      const text = await throughConnect(peer.port, { host: '10.0.0.1', port: 1 }, null, (socket) =>
        readUntil(socket, 'EARLY-BYTES'),
      );
      assert.equal(text, 'EARLY-BYTES');
    } finally {
      await peer.close();
    }
  });

  const cases: { answer: string; reason: DialFailureReason; proxyAnswered: boolean }[] = [
    { answer: 'HTTP/1.1 407 Proxy Authentication Required\r\n\r\n', reason: 'upstream-auth', proxyAnswered: true },
    { answer: 'HTTP/1.0 401 Unauthorized\r\n\r\n', reason: 'upstream-auth', proxyAnswered: true },
    { answer: 'HTTP/1.1 502 Bad Gateway\r\n\r\n', reason: 'target-unreachable', proxyAnswered: true },
    { answer: 'HTTP/1.1 503 Service Unavailable\r\n\r\n', reason: 'target-unreachable', proxyAnswered: true },
    { answer: 'HTTP/1.0 500 Unable to connect\r\n\r\n', reason: 'target-unreachable', proxyAnswered: true },
    { answer: 'HTTP/1.1 403 Forbidden\r\n\r\n', reason: 'target-unreachable', proxyAnswered: true },
    { answer: 'HTTP/1.1 504 Gateway Timeout\r\n\r\n', reason: 'timeout', proxyAnswered: true },
    { answer: 'HTTP/1.1 400 Bad Request\r\n\r\n', reason: 'refused', proxyAnswered: false },
    { answer: 'HTTP/1.1 301 Moved\r\nLocation: /x\r\n\r\n', reason: 'refused', proxyAnswered: false },
    { answer: 'SSH-2.0-OpenSSH_9.2\r\n', reason: 'refused', proxyAnswered: false },
    { answer: 'HTTP/1.1 2000 OK\r\n\r\n', reason: 'refused', proxyAnswered: false },
    { answer: '\x05\x00', reason: 'refused', proxyAnswered: false },
  ];
  for (const { answer, reason, proxyAnswered } of cases) {
    test(`${JSON.stringify(answer.split('\r\n')[0])} → ${reason}`, async () => {
      const { peer } = await scriptedProxy(answer);
      try {
        const error = await failure(throughConnect(peer.port, { host: 'example.test', port: 443 }, null, nothing));
        assert.deepEqual([error.reason, error.proxyAnswered], [reason, proxyAnswered], error.message);
      } finally {
        await peer.close();
      }
    });
  }

  test('a head over 16 KiB is refused, with the cap in the message', async () => {
    const { peer } = await scriptedProxy(`HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(100_000)}\r\n\r\n`);
    try {
      const error = await failure(throughConnect(peer.port, { host: 'example.test', port: 443 }, null, nothing));
      assert.equal(error.reason, 'refused');
      assert.match(error.message, /no complete answer within 16384 bytes/);
    } finally {
      await peer.close();
    }
  });
});
