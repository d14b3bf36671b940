import assert from 'node:assert/strict';
import { Cancel } from './cancel.js';
import type { Socket } from 'node:net';
import { describe, test } from 'node:test';
import { readBytes, ScriptedPeer } from '../testing/scripted-peer.js';
import { waitFor } from '../wait-for.js';
import type { DialFailureReason } from './dial-types.js';
import { buildHopChain, type HopRequest } from './hop-chain.js';
import { HopError } from './hop-error.js';
import type { Member } from './route-types.js';

const TIMEOUT_MS = 300;

function request(cancel = new Cancel()): HopRequest {
  const route = { name: 'r', kind: 'pool' as const, members: [] };
  return {
    route,
    session: null,
    target: { host: 'example.test', port: 443 },
    purpose: 'tunnel',
    corporate: null,
    cancel,
  };
}

/** Answers the SOCKS5 greeting with "no auth", then does `then` with the CONNECT request. */
function afterSocksGreeting(then: (socket: Socket) => void): (socket: Socket) => void {
  return (socket) => {
    void readBytes(socket, 3).then(() => {
      socket.write(Buffer.from([0x05, 0x00]));
      then(socket);
      socket.resume();
    });
  };
}

/** Answers once a request head arrived. */
function afterHead(then: (socket: Socket) => void): (socket: Socket) => void {
  return (socket) => {
    let text = '';
    const onData = (chunk: Buffer): void => {
      text += chunk.toString('latin1');
      if (!text.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      then(socket);
    };
    socket.on('data', onData);
  };
}

const silent = (): void => undefined;
const cases: {
  name: string;
  protocol: 'socks5' | 'http';
  peer: (socket: Socket) => void;
  reason: DialFailureReason;
  message: RegExp;
}[] = [
  {
    name: 'SOCKS: answers garbage',
    protocol: 'socks5',
    peer: (s) => s.end('HTTP/1.1 400 Bad\r\n\r\n'),
    reason: 'refused',
    message: /not a SOCKS5 answer/,
  },
  {
    name: 'SOCKS: closes before answering',
    protocol: 'socks5',
    peer: (s) => s.destroy(),
    reason: 'refused',
    message: /closed the connection before answering/,
  },
  {
    name: 'SOCKS: closes mid-handshake',
    protocol: 'socks5',
    peer: afterSocksGreeting((s) => s.end()),
    reason: 'refused',
    message: /closed the connection/,
  },
  {
    name: 'SOCKS: short reply, then closes',
    protocol: 'socks5',
    peer: afterSocksGreeting((s) => s.end(Buffer.from([5, 0, 0]))),
    reason: 'refused',
    message: /after 3 bytes/,
  },
  {
    name: 'SOCKS: unknown address type in the reply',
    protocol: 'socks5',
    peer: afterSocksGreeting((s) => s.write(Buffer.from([5, 0, 0, 9, 0]))),
    reason: 'refused',
    message: /unknown address type 0x09/,
  },
  {
    name: 'SOCKS: never answers (the hop deadline)',
    protocol: 'socks5',
    peer: silent,
    reason: 'timeout',
    message: /no answer within 300 ms/,
  },
  {
    name: 'SOCKS: answers the greeting, then silence',
    protocol: 'socks5',
    peer: afterSocksGreeting(silent),
    reason: 'timeout',
    message: /no answer within 300 ms/,
  },
  {
    name: 'SOCKS: reset mid-handshake',
    protocol: 'socks5',
    peer: afterSocksGreeting((s) => s.resetAndDestroy()),
    reason: 'refused',
    message: /ECONNRESET|closed the connection/,
  },
  {
    name: 'HTTP: 407',
    protocol: 'http',
    peer: afterHead((s) => s.end('HTTP/1.1 407 Proxy Authentication Required\r\n\r\n')),
    reason: 'upstream-auth',
    message: /407/,
  },
  {
    name: 'HTTP: 502',
    protocol: 'http',
    peer: afterHead((s) => s.end('HTTP/1.1 502 Bad Gateway\r\n\r\n')),
    reason: 'target-unreachable',
    message: /502 Bad Gateway/,
  },
  {
    name: 'HTTP: garbage',
    protocol: 'http',
    peer: afterHead((s) => s.end('\x00\x01garbage\r\n\r\n')),
    reason: 'refused',
    message: /is not HTTP/,
  },
  {
    name: 'HTTP: a 100 KB head',
    protocol: 'http',
    peer: afterHead((s) => s.write(`HTTP/1.1 200 OK\r\nX: ${'y'.repeat(100_000)}`)),
    reason: 'refused',
    message: /16384 bytes/,
  },
  {
    name: 'HTTP: half a head, then silence',
    protocol: 'http',
    peer: afterHead((s) => s.write('HTTP/1.1 200 OK\r\nX: 1\r\n')),
    reason: 'timeout',
    message: /no answer within 300 ms/,
  },
  {
    name: 'HTTP: nothing at all',
    protocol: 'http',
    peer: silent,
    reason: 'timeout',
    message: /no answer within 300 ms/,
  },
  {
    name: 'HTTP: closes before answering',
    protocol: 'http',
    peer: afterHead((s) => s.end()),
    reason: 'refused',
    message: /closed the connection before answering/,
  },
];

describe('buildHopChain against hostile proxies: a typed error, every socket closed, no crash', () => {
  for (const { name, protocol, peer: script, reason, message } of cases) {
    test(name, async () => {
      // The peer reads on after its script, so it sees our side close (a paused socket never would).
      const peer = await ScriptedPeer.start((socket) => {
        script(socket);
        socket.resume();
      });
      try {
        const member: Member =
          protocol === 'socks5'
            ? { kind: 'tor', id: 'hostile-0', pool: 'hostile', host: '127.0.0.1', port: peer.port }
            : { kind: 'upstream', id: 'hostile', protocol: 'http', host: '127.0.0.1', port: peer.port, auth: null };
        const error = await buildHopChain(member, request(), TIMEOUT_MS).then(
          () => assert.fail('the chain was built'),
          (thrown: unknown) => thrown,
        );
        assert.ok(error instanceof HopError, String(error));
        assert.equal(error.reason, reason, error.message);
        assert.match(error.message, message);
        assert.equal(peer.accepted, 1);
        await waitFor('the dialer to close its socket', () => peer.open === 0, 5_000);
      } finally {
        await peer.close();
      }
    });
  }

  test('a closed port: refused, naming the member', async () => {
    const peer = await ScriptedPeer.start(silent);
    const port = peer.port;
    await peer.close();
    const member: Member = { kind: 'tor', id: 'us-3', pool: 'us', host: '127.0.0.1', port };
    await assert.rejects(buildHopChain(member, request(), TIMEOUT_MS), (error: unknown) => {
      assert.ok(error instanceof HopError);
      assert.equal(error.reason, 'refused');
      assert.match(error.message, new RegExp(`tor proxy us-3 at 127.0.0.1:${port}: nothing listens there`));
      return true;
    });
  });

  test('the request aborted mid-handshake: aborted, and the socket closed', async () => {
    const cancel = new Cancel();
    const peer = await ScriptedPeer.start(() => {
      cancel.cancel();
    });
    try {
      const member: Member = { kind: 'tor', id: 'us-0', pool: 'us', host: '127.0.0.1', port: peer.port };
      await assert.rejects(buildHopChain(member, request(cancel), 10_000), {
        name: 'DialError',
        reason: 'aborted',
      });
      await waitFor('the dialer to close its socket', () => peer.open === 0, 5_000);
    } finally {
      await peer.close();
    }
  });
});
