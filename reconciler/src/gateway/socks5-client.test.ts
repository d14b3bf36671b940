import assert from 'node:assert/strict';
import { Cancel } from './cancel.js';
import type { Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { readUntil, startEchoTarget, TARGET_BANNER } from '../testing/echo-target.js';
import { startMicrosocks, type ProxyDaemon } from '../testing/proxy-daemons.js';
import { readBytes, ScriptedPeer } from '../testing/scripted-peer.js';
import { DialError } from './dial-types.js';
import { startHop } from './hop-deadline.js';
import { HopError } from './hop-error.js';
import type { Target } from './route-types.js';
import { socks5Connect, type SocksCredentials } from './socks5-client.js';
import { connectTcp } from './tcp-connect.js';

const WHAT = 'test proxy';
const nothing = (): Promise<number> => Promise.resolve(0);

/** SOCKS5 through the proxy at `port` to `target`; the socket is destroyed after `use` (or on failure). */
async function throughSocks<T>(
  port: number,
  target: Target,
  credentials: SocksCredentials | null,
  use: (socket: Socket) => Promise<T>,
  timeoutMs = 5_000,
): Promise<T> {
  const hop = startHop(new Cancel(), timeoutMs);
  const socket = await connectTcp('127.0.0.1', port, hop.cancel, WHAT);
  try {
    await socks5Connect(socket, target, credentials, hop.cancel, WHAT);
    return await use(socket);
  } finally {
    hop.end();
    socket.destroy();
  }
}

async function failure(promise: Promise<unknown>): Promise<HopError> {
  const error = await promise.then(
    () => assert.fail('the handshake succeeded'),
    (thrown: unknown) => thrown,
  );
  assert.ok(error instanceof HopError, `a HopError, got ${String(error)}`);
  return error;
}

describe('socks5Connect against microsocks (real peer)', () => {
  let echo: ScriptedPeer;
  let open: ProxyDaemon;
  let locked: ProxyDaemon;
  before(async () => {
    echo = await startEchoTarget();
    open = await startMicrosocks();
    locked = await startMicrosocks({ user: 'sockuser', password: 'sock-pass-1' });
  });
  after(async () => {
    await Promise.all([open.stop(), locked.stop(), echo.close()]);
  });

  test('no authentication, an IPv4 target: the tunnel carries the target bytes both ways', async () => {
    const text = await throughSocks(open.port, { host: '127.0.0.1', port: echo.port }, null, async (socket) => {
      await readUntil(socket, TARGET_BANNER);
      socket.write('ping\n');
      return readUntil(socket, 'ping\n');
    });
    assert.match(text, /ping/);
  });

  test('user/password (RFC 1929) accepted', async () => {
    const login = { user: 'sockuser', password: 'sock-pass-1' };
    const text = await throughSocks(locked.port, { host: '127.0.0.1', port: echo.port }, login, (socket) =>
      readUntil(socket, TARGET_BANNER),
    );
    assert.ok(text.includes(TARGET_BANNER));
  });

  test('a wrong password and a missing one are upstream-auth', async () => {
    const target = { host: '127.0.0.1', port: echo.port };
    const wrong = await failure(throughSocks(locked.port, target, { user: 'sockuser', password: 'nope' }, nothing));
    assert.equal(wrong.reason, 'upstream-auth');
    assert.match(wrong.message, /refused the user name and password/);
    const none = await failure(throughSocks(locked.port, target, null, nothing));
    assert.equal(none.reason, 'upstream-auth');
    assert.match(none.message, /wants authentication; none is set/);
  });

  test('a closed target port is target-unreachable, answered by the proxy (not its fault)', async () => {
    const closed = await ScriptedPeer.start(() => undefined);
    const port = closed.port;
    await closed.close();
    const error = await failure(throughSocks(open.port, { host: '127.0.0.1', port }, null, nothing));
    assert.equal(error.reason, 'target-unreachable');
    assert.equal(error.proxyAnswered, true);
  });
});

/** A SOCKS5 server that accepts no-auth, records the CONNECT request, and answers `reply` (then `after`). */
async function recordingSocks(
  reply: Buffer,
  after: Buffer = Buffer.alloc(0),
): Promise<{ peer: ScriptedPeer; requests: Buffer[] }> {
  const requests: Buffer[] = [];
  const peer = await ScriptedPeer.start((socket) => {
    void (async () => {
      await readBytes(socket, 3);
      socket.write(Buffer.from([0x05, 0x00]));
      const head = await readBytes(socket, 5);
      const rest = head[3] === 0x01 ? 5 : head[3] === 0x04 ? 17 : (head[4] ?? 0) + 2;
      requests.push(Buffer.concat([head, await readBytes(socket, rest)]));
      socket.write(Buffer.concat([reply, after]));
    })();
  });
  return { peer, requests };
}

const OK_REPLY = Buffer.from([0x05, 0x00, 0x00, 0x01, 127, 0, 0, 1, 0x1f, 0x90]);

describe('socks5Connect request bytes (a recording peer)', () => {
  const cases: { name: string; target: Target; bytes: number[] }[] = [
    { name: 'IPv4 literal as ATYP 1', target: { host: '10.1.2.3', port: 80 }, bytes: [1, 10, 1, 2, 3, 0, 80] },
    {
      name: 'IPv6 literal as ATYP 4',
      target: { host: '2001:db8::1', port: 443 },
      bytes: [4, 0x20, 0x01, 0x0d, 0xb8, ...new Array<number>(11).fill(0), 1, 0x01, 0xbb],
    },
    {
      name: 'a host name as ATYP 3: the proxy resolves it',
      target: { host: 'example.test', port: 8080 },
      bytes: [3, 12, ...Buffer.from('example.test'), 0x1f, 0x90],
    },
  ];
  for (const { name, target, bytes } of cases) {
    test(name, async () => {
      const { peer, requests } = await recordingSocks(OK_REPLY);
      try {
        await throughSocks(peer.port, target, null, nothing);
        assert.deepEqual([...(requests[0] ?? [])], [0x05, 0x01, 0x00, ...bytes]);
      } finally {
        await peer.close();
      }
    });
  }

  test('bytes the proxy sends right after its reply are the tunnel’s: none is lost', async () => {
    const early = Buffer.alloc(100_000, 'x');
    const { peer } = await recordingSocks(OK_REPLY, Buffer.concat([early, Buffer.from('END')]));
    try {
      const text = await throughSocks(peer.port, { host: '10.0.0.1', port: 1 }, null, (socket) =>
        readUntil(socket, 'END'),
      );
      assert.equal(text.length, 100_003);
    } finally {
      await peer.close();
    }
  });

  test('a domain-name reply (ATYP 3, 255 bytes) is read whole', async () => {
    const name = Buffer.alloc(255, 'n');
    const reply = Buffer.concat([Buffer.from([5, 0, 0, 3, 255]), name, Buffer.from([0, 80])]);
    const { peer } = await recordingSocks(reply, Buffer.from('DATA'));
    try {
      const text = await throughSocks(peer.port, { host: '10.0.0.1', port: 1 }, null, (socket) =>
        readUntil(socket, 'DATA'),
      );
      assert.equal(text, 'DATA');
    } finally {
      await peer.close();
    }
  });
});

describe('socks5Connect method negotiation (a recording peer)', () => {
  const cases: {
    name: string;
    credentials: SocksCredentials | null;
    choose: number;
    greeting: number[];
    auth: number[];
  }[] = [
    {
      name: 'no credentials: only "no authentication" offered',
      credentials: null,
      choose: 0x00,
      greeting: [5, 1, 0],
      auth: [],
    },
    {
      name: 'credentials, the proxy picks user/password (as tor does): RFC 1929 request',
      credentials: { user: 'torfleet-us', password: 'abc' },
      choose: 0x02,
      greeting: [5, 2, 2, 0],
      auth: [1, 11, ...Buffer.from('torfleet-us'), 3, ...Buffer.from('abc')],
    },
    {
      name: 'credentials, an open proxy picks none: no auth request',
      credentials: { user: 'u', password: 'p' },
      choose: 0x00,
      greeting: [5, 2, 2, 0],
      auth: [],
    },
  ];
  for (const { name, credentials, choose, greeting, auth } of cases) {
    test(name, async () => {
      const seen: number[] = [];
      const peer = await ScriptedPeer.start((socket) => {
        void (async () => {
          const head = await readBytes(socket, 2);
          seen.push(...head, ...(await readBytes(socket, head[1] ?? 0)));
          socket.write(Buffer.from([5, choose]));
          if (choose === 0x02) {
            const user = await readBytes(socket, 2);
            const name = await readBytes(socket, user[1] ?? 0);
            const length = await readBytes(socket, 1);
            seen.push(...user, ...name, ...length, ...(await readBytes(socket, length[0] ?? 0)));
            socket.write(Buffer.from([1, 0]));
          }
          await readBytes(socket, 10);
          socket.write(OK_REPLY);
        })();
      });
      try {
        await throughSocks(peer.port, { host: '10.0.0.1', port: 1 }, credentials, nothing);
        assert.deepEqual(seen, [...greeting, ...auth]);
      } finally {
        await peer.close();
      }
    });
  }
});

describe('socks5Connect reply codes', () => {
  const cases: { code: number; reason: DialError['reason']; proxyAnswered: boolean }[] = [
    { code: 0x01, reason: 'refused', proxyAnswered: false },
    { code: 0x02, reason: 'target-unreachable', proxyAnswered: true },
    { code: 0x03, reason: 'target-unreachable', proxyAnswered: true },
    { code: 0x04, reason: 'target-unreachable', proxyAnswered: true },
    { code: 0x05, reason: 'target-unreachable', proxyAnswered: true },
    { code: 0x06, reason: 'timeout', proxyAnswered: true },
    { code: 0x07, reason: 'refused', proxyAnswered: false },
    { code: 0x08, reason: 'refused', proxyAnswered: false },
    { code: 0x42, reason: 'refused', proxyAnswered: false },
  ];
  for (const { code, reason, proxyAnswered } of cases) {
    test(`0x${code.toString(16)} → ${reason}`, async () => {
      const { peer } = await recordingSocks(Buffer.from([0x05, code]));
      try {
        const error = await failure(throughSocks(peer.port, { host: 'example.test', port: 80 }, null, nothing));
        assert.deepEqual([error.reason, error.proxyAnswered], [reason, proxyAnswered]);
        assert.match(error.message, new RegExp(`answered 0x${code.toString(16).padStart(2, '0')}`));
      } finally {
        await peer.close();
      }
    });
  }
});
