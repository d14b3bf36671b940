import assert from 'node:assert/strict';
import { createServer as createHttpServer, get, type IncomingMessage } from 'node:http';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { test } from 'node:test';
import { leanExchange, leanFits } from './member-lean.js';
import type { ExchangeEnd, MemberRequest } from './member-exchange.js';

const request = (over: Partial<MemberRequest> = {}): MemberRequest => ({
  method: 'GET',
  path: '/x',
  headers: ['Host', 'origin.test', 'Accept', '*/*'],
  keepAlive: true,
  bodiless: true,
  closeClient: false,
  ...over,
});

interface Run {
  readonly end: ExchangeEnd;
  readonly status: number | null;
  readonly body: string;
  /** The client's response ended short (aborted) or its connection failed. */
  readonly broken: boolean;
  /** What the member received. */
  readonly sent: string;
}

/**
 * A member that answers `reply` (then closes when `close`), a front HTTP server whose handler runs leanExchange
 * over a connection to it (answering 502 itself when nothing was responded), and one client request.
 */
async function run(
  reply: string,
  options: { close?: boolean; method?: string; trickle?: readonly string[]; slowClient?: boolean } = {},
): Promise<Run> {
  let sent = '';
  const member = createServer((socket) => {
    socket.on('error', () => undefined);
    socket.once('data', (data) => {
      sent = data.toString('latin1');
      socket.write(reply, 'latin1');
      const pieces = [...(options.trickle ?? [])];
      const next = (): void => {
        const piece = pieces.shift();
        if (piece === undefined) return;
        socket.write(piece, 'latin1');
        setTimeout(next, 2);
      };
      next();
      if (options.close === true) setTimeout(() => socket.destroy(), 30);
    });
  });
  await new Promise<void>((resolve) => member.listen(0, '127.0.0.1', resolve));
  let resolveEnd: (end: ExchangeEnd) => void = () => undefined;
  const ended = new Promise<ExchangeEnd>((resolve) => (resolveEnd = resolve));
  const front = createHttpServer((req, res) => {
    const socket: Socket = connect((member.address() as AddressInfo).port, '127.0.0.1');
    socket.on('error', () => undefined);
    void leanExchange(socket, res, request({ method: req.method ?? 'GET' })).then((end) => {
      if (!end.responded) res.writeHead(502).end('502');
      if (!end.reusable) socket.destroy();
      else socket.end();
      resolveEnd(end);
    });
  });
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  const answer = await new Promise<{ status: number | null; body: string; broken: boolean }>((resolve) => {
    const client = get(
      { port: (front.address() as AddressInfo).port, host: '127.0.0.1', path: '/', method: options.method ?? 'GET' },
      (incoming: IncomingMessage) => {
        let body = '';
        incoming.setEncoding('latin1');
        incoming.on('data', (chunk: string) => {
          body += chunk;
          if (options.slowClient !== true) return;
          incoming.pause(); // a client that reads 64 KiB every 5 ms: the member's reads must wait for it
          setTimeout(() => incoming.resume(), 5);
        });
        incoming.on('error', () => undefined);
        incoming.on('close', () => {
          resolve({ status: incoming.statusCode ?? null, body, broken: !incoming.complete });
        });
      },
    );
    client.on('error', () => {
      resolve({ status: null, body: '', broken: true });
    });
  });
  const end = await ended;
  front.closeAllConnections();
  front.close();
  member.close();
  return { end, ...answer, sent };
}

test('leanFits: bodiless unframed methods with a clean path and headers only', () => {
  assert.equal(leanFits(request()), true);
  assert.equal(leanFits(request({ method: 'HEAD' })), true);
  assert.equal(leanFits(request({ method: 'POST' })), false, 'node adds Content-Length: 0');
  assert.equal(leanFits(request({ bodiless: false })), false);
  assert.equal(leanFits(request({ path: '/a b' })), false);
  assert.equal(leanFits(request({ headers: ['X-A', 'one\r\nX-B: two'] })), false);
  assert.equal(leanFits(request({ headers: ['Bad Name', 'v'] })), false);
});

test('the request head as node writes it, and a Content-Length answer: reusable', async () => {
  const r = await run('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello');
  assert.equal(r.sent, 'GET /x HTTP/1.1\r\nHost: origin.test\r\nAccept: */*\r\nConnection: keep-alive\r\n\r\n');
  assert.deepEqual([r.status, r.body, r.broken], [200, 'hello', false]);
  assert.deepEqual(r.end, { responded: true, error: null, reusable: true });
});

test('chunked: the whole body, reusable', async () => {
  const r = await run('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n');
  assert.deepEqual([r.status, r.body, r.broken], [200, 'hello world', false]);
  assert.equal(r.end.reusable, true);
});

test('Connection: close and HTTP/1.0 read to the close: delivered, not reusable', async () => {
  const closing = await run('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok', { close: true });
  assert.deepEqual([closing.status, closing.body, closing.broken], [200, 'ok', false]);
  assert.deepEqual(closing.end, { responded: true, error: null, reusable: false });
  const old = await run(`HTTP/1.0 200 OK\r\n\r\n${'y'.repeat(3000)}`, { close: true });
  assert.deepEqual([old.status, old.body.length, old.broken], [200, 3000, false]);
  assert.deepEqual(old.end, { responded: true, error: null, reusable: false });
});

test('HEAD, 204, 304 and a 100 before the answer: no body read, reusable', async () => {
  const head = await run('HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n', { method: 'HEAD' });
  assert.deepEqual([head.status, head.body, head.end.reusable], [200, '', true]);
  const empty = await run('HTTP/1.1 204 No Content\r\n\r\n');
  assert.deepEqual([empty.status, empty.body, empty.end.reusable], [204, '', true]);
  const same = await run('HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n');
  assert.deepEqual([same.status, same.body, same.end.reusable], [304, '', true]);
  const info = await run('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
  assert.deepEqual([info.status, info.body, info.end.reusable], [200, 'ok', true]);
});

test('a member that closes mid-body: the client response is aborted, not truncated silently', async () => {
  const r = await run(`HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n${'z'.repeat(500)}`, { close: true });
  assert.equal(r.broken, true);
  assert.deepEqual(r.end, { responded: true, error: 'aborted', reusable: false });
  const chunked = await run('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n', { close: true });
  assert.equal(chunked.broken, true);
  assert.equal(chunked.end.error, 'aborted');
});

test('garbage, a 100 KB header, a close before any byte: nothing responded, the caller answers', async () => {
  const garbage = await run('garbage garbage\r\n\r\n');
  assert.equal(garbage.status, 502);
  assert.match(garbage.end.error ?? '', /^Parse Error: /);
  assert.equal(garbage.end.responded, false);
  const big = await run(`HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(100_000)}\r\nContent-Length: 2\r\n\r\nok`);
  assert.deepEqual([big.status, big.end.error, big.end.responded], [502, 'Parse Error: Header overflow', false]);
  const silent = await run('', { close: true });
  assert.deepEqual([silent.status, silent.end.error, silent.end.responded], [502, 'socket hang up', false]);
});

test('a body that trickles in 1 KiB writes (read after a nap each time): all of it, reusable', async () => {
  const pieces = Array.from({ length: 20 }, (_, i) => String.fromCharCode(97 + i).repeat(1024));
  const r = await run('HTTP/1.1 200 OK\r\nContent-Length: 20480\r\n\r\n', { trickle: pieces });
  assert.deepEqual([r.status, r.body, r.broken], [200, pieces.join(''), false]);
  assert.deepEqual(r.end, { responded: true, error: null, reusable: true });
});

test('a Content-Length body is relayed as it comes (head and part of it in one read, the rest later), byte for byte', async () => {
  const bytes = Array.from({ length: 256 }, (_, i) => String.fromCharCode(i)).join('');
  const rest = Array.from({ length: 8 }, () => bytes.repeat(4));
  const r = await run(`HTTP/1.1 200 OK\r\nContent-Length: ${bytes.length * 33}\r\n\r\n${bytes}`, { trickle: rest });
  assert.deepEqual([r.status, r.body === bytes + rest.join(''), r.broken], [200, true, false]);
  assert.deepEqual(r.end, { responded: true, error: null, reusable: true });
});

test('bytes after a Content-Length body: the body as framed, the connection not used again', async () => {
  const r = await run('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloHTTP/1.1 200 OK\r\n\r\nmore');
  assert.deepEqual([r.status, r.body, r.broken], [200, 'hello', false]);
  assert.equal(r.end.reusable, false);
  const later = await run('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel', { trickle: ['lo', 'EXTRA'] });
  assert.deepEqual([later.status, later.body], [200, 'hello']);
});

test('framing the parser must judge (two Content-Lengths, one with Transfer-Encoding, an odd one) is refused', async () => {
  for (const head of [
    'Content-Length: 5\r\nContent-Length: 6',
    'Content-Length: 5\r\nTransfer-Encoding: chunked',
    'Content-Length: +5',
  ]) {
    const r = await run(`HTTP/1.1 200 OK\r\n${head}\r\n\r\nhello`);
    assert.deepEqual([r.status, r.end.responded], [502, false], head);
    assert.match(r.end.error ?? '', /^Parse Error: /, head);
  }
});

test('a slow client: a 4 MiB Content-Length body arrives whole, the member read as the client reads', async () => {
  const body = 'q'.repeat(4 * 1024 * 1024);
  const r = await run(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`, { slowClient: true });
  assert.deepEqual([r.status, r.body.length, r.body === body, r.broken], [200, body.length, true, false]);
  assert.equal(r.end.reusable, true);
});

test(
  'what the client connection receives is the framed response only, never the member bytes after it',
  { timeout: 10_000 },
  async () => {
    const member = createServer((socket) => {
      socket.on('error', () => undefined);
      socket.once('data', () => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloGARBAGE'));
    });
    await new Promise<void>((resolve) => member.listen(0, '127.0.0.1', resolve));
    const front = createHttpServer((_req, res) => {
      const socket = connect((member.address() as AddressInfo).port, '127.0.0.1');
      socket.on('error', () => undefined);
      void leanExchange(socket, res, request()).then(() => socket.destroy());
    });
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
    const received = await new Promise<string>((resolve) => {
      const client = connect((front.address() as AddressInfo).port, '127.0.0.1');
      let bytes = '';
      client.setEncoding('latin1');
      client.on('data', (chunk: string) => (bytes += chunk));
      client.on('close', () => {
        resolve(bytes);
      });
      client.write('GET / HTTP/1.1\r\nHost: front\r\nConnection: close\r\n\r\n');
    });
    front.close();
    member.close();
    assert.match(received, /^HTTP\/1\.1 200 OK\r\n/);
    assert.ok(received.endsWith('\r\n\r\nhello'), JSON.stringify(received.slice(-40)));
  },
);

test(
  'a client that leaves mid-body: the member connection is closed, the exchange ends with why',
  { timeout: 10_000 },
  async () => {
    let memberClosed: () => void = () => undefined;
    const closed = new Promise<void>((resolve) => (memberClosed = resolve));
    const member = createServer((socket) => {
      socket.on('error', () => undefined);
      socket.on('close', () => {
        memberClosed();
      });
      // a head and a first piece of a 10 MiB body, then nothing: the client leaves while the rest is awaited
      socket.once('data', () =>
        socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${10 * 1024 * 1024}\r\n\r\n${'b'.repeat(4096)}`),
      );
    });
    await new Promise<void>((resolve) => member.listen(0, '127.0.0.1', resolve));
    let exchange: Promise<ExchangeEnd> | null = null;
    const front = createHttpServer((_req, res) => {
      const socket = connect((member.address() as AddressInfo).port, '127.0.0.1');
      socket.on('error', () => undefined);
      exchange = leanExchange(socket, res, request());
    });
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
    await new Promise<void>((resolve) => {
      const client = connect((front.address() as AddressInfo).port, '127.0.0.1');
      client.on('error', () => undefined);
      client.once('data', () => {
        client.destroy();
        resolve();
      });
      client.write('GET / HTTP/1.1\r\nHost: front\r\n\r\n');
    });
    await closed;
    const end = await (exchange as unknown as Promise<ExchangeEnd>);
    assert.deepEqual(end, { responded: true, error: 'the client went away', reusable: false });
    front.close();
    member.close();
  },
);
