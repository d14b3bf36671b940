import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fetchThroughSocks, MAX_RESPONSE_BYTES } from './socks-fetch.js';

// This file's port block: 29060-29099.
let nextPort = 29060;
const servers: Server[] = [];
after(() => {
  for (const server of servers) server.close();
});

const METHOD_OK = Buffer.from([5, 0]);
const CONNECT_OK = Buffer.from([5, 0, 0, 1, 127, 0, 0, 1, 0, 80]);
const HTTP_OK = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n{"IP":"198.51.100.7"}';

/** A SOCKS5 "proxy" on loopback that answers each connection with `behave(socket)` once the greeting arrives. */
async function socksServer(behave: (socket: Socket) => void): Promise<number> {
  const port = nextPort++;
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.once('data', () => {
      behave(socket);
    });
  });
  server.on('close', () => {
    for (const socket of sockets) socket.destroy();
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return port;
}

/** Replies `bytes` after the CONNECT request arrives. */
function afterConnect(socket: Socket, reply: (socket: Socket) => void): void {
  socket.write(METHOD_OK);
  socket.once('data', () => {
    reply(socket);
  });
}

const fetchVia = (port: number, timeoutMs = 3000): Promise<{ status: number; body: string }> =>
  fetchThroughSocks({ host: '127.0.0.1', port }, 'http://check.example/ip', timeoutMs);

/** Writes `bytes` one at a time, a moment apart. */
async function dribble(socket: Socket, bytes: Buffer): Promise<void> {
  for (const byte of bytes) {
    if (socket.destroyed) return;
    socket.write(Buffer.from([byte]));
    await sleep(1);
  }
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(error instanceof Error, `expected a failure, got ${JSON.stringify(error)}`);
  return error;
}

describe('fetchThroughSocks against hostile or sloppy SOCKS servers', () => {
  test('a well-behaved proxy: the reply and the response in one write', async () => {
    const port = await socksServer((socket) => {
      afterConnect(socket, (s) => s.end(Buffer.concat([CONNECT_OK, Buffer.from(HTTP_OK)])));
    });
    assert.deepEqual(await fetchVia(port), { status: 200, body: '{"IP":"198.51.100.7"}' });
  });

  test('every reply split byte by byte', async () => {
    const port = await socksServer((socket) => {
      socket.once('data', () => {
        void dribble(socket, Buffer.concat([CONNECT_OK, Buffer.from(HTTP_OK)])).then(() => socket.end());
      });
      void dribble(socket, METHOD_OK);
    });
    assert.deepEqual(await fetchVia(port, 10_000), { status: 200, body: '{"IP":"198.51.100.7"}' });
  });

  const BAD: readonly [string, (socket: Socket) => void, RegExp][] = [
    ['garbage instead of a method reply', (s) => s.end('HTTP/1.1 400 Bad Request\r\n\r\n'), /not a SOCKS5 proxy/],
    [
      'garbage instead of a CONNECT reply',
      (s) => {
        afterConnect(s, (t) => t.write('garbage!!!!!!'));
      },
      /SOCKS/,
    ],
    [
      'a CONNECT reply with an unknown address type',
      (s) => {
        afterConnect(s, (t) => t.write(Buffer.from([5, 0, 0, 9, 1, 2, 3, 4, 5, 6, 7, 8])));
      },
      /address type/,
    ],
    [
      'a close mid-reply',
      (s) => {
        afterConnect(s, (t) => t.end(Buffer.from([5, 0, 0])));
      },
      /closed/,
    ],
    ['a close before any reply', (s) => s.end(), /closed/],
    [
      'a refusal',
      (s) => {
        afterConnect(s, (t) => t.end(Buffer.from([5, 5, 0, 1, 0, 0, 0, 0, 0, 0])));
      },
      /refused/,
    ],
    [
      'a huge HTTP response',
      (s) => {
        afterConnect(s, (t) => {
          t.write(Buffer.concat([CONNECT_OK, Buffer.from('HTTP/1.1 200 OK\r\n\r\n')]));
          const chunk = Buffer.alloc(64 * 1024, 'x');
          const more = (): void => {
            while (!t.destroyed && t.write(chunk));
            if (!t.destroyed) t.once('drain', more);
          };
          more();
        });
      },
      new RegExp(`larger than ${MAX_RESPONSE_BYTES} bytes`),
    ],
    [
      'headers that never end',
      (s) => {
        afterConnect(s, (t) => {
          t.write(Buffer.concat([CONNECT_OK, Buffer.from('HTTP/1.1 200 OK\r\n')]));
          const more = (): void => {
            while (!t.destroyed && t.write(`x-pad: ${'a'.repeat(1000)}\r\n`));
            if (!t.destroyed) t.once('drain', more);
          };
          more();
        });
      },
      new RegExp(`larger than ${MAX_RESPONSE_BYTES} bytes`),
    ],
    [
      'a response that is not HTTP',
      (s) => {
        afterConnect(s, (t) => t.end(Buffer.concat([CONNECT_OK, Buffer.from('SSH-2.0-x\r\n')])));
      },
      /not an HTTP response/,
    ],
    ['a proxy that never answers', () => undefined, /no answer within 300 ms/],
  ];
  for (const [name, behave, message] of BAD) {
    test(`${name} fails with an error`, async () => {
      const port = await socksServer(behave);
      const error = await failure(fetchVia(port, name.includes('never answers') ? 300 : 3000));
      assert.match(error.message, message);
    });
  }
});
