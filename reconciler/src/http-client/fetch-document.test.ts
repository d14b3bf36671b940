import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { TorfleetError } from '../errors.js';
import { Http10Server } from '../testing/http10-server.js';
import { fetchDocument } from './fetch-document.js';

// This file's port block: 29020-29039.
const PORT = 29020;
const NO_RETRY = { attempts: 1, baseDelayMs: 0, maxDelayMs: 0, maxRetryAfterMs: 0 };

/** A raw TCP server that runs `behave` on each connection once the request head is in. */
async function rawServer(port: number, behave: (socket: Socket) => void): Promise<{ url: string; server: Server }> {
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
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${port}/doc`, server };
}

async function rejection(promise: Promise<unknown>): Promise<TorfleetError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(error instanceof TorfleetError, `expected a TorfleetError, got ${String(error)}`);
  return error;
}

describe('fetchDocument against misbehaving servers', () => {
  const servers: Server[] = [];
  const notModified = new Http10Server(() => ({
    status: '304 Not Modified',
    body: Buffer.alloc(0),
    contentLength: false,
  }));
  let notModifiedUrl = '';

  before(async () => {
    notModifiedUrl = `${await notModified.start(PORT)}/doc`;
  });
  after(async () => {
    await notModified.stop();
    for (const server of servers) server.close();
  });

  test('a 304 to an unconditional request is an error, not "not modified"', async () => {
    const error = await rejection(fetchDocument(notModifiedUrl, { what: 'consensus', retry: NO_RETRY }));
    assert.equal(error.code, 'NODE_SOURCE_INVALID');
    assert.match(error.message, /304 not modified to a request that was not conditional/);
  });

  test('a 304 to a conditional request is "not modified"', async () => {
    const document = await fetchDocument(notModifiedUrl, {
      what: 'consensus',
      retry: NO_RETRY,
      headers: { 'if-modified-since': 'Sat, 19 Nov 2022 10:05:00 GMT' },
    });
    assert.equal(document.status, 304);
  });

  test('headers that never end fail the fetch, bounded', async () => {
    const { url, server } = await rawServer(PORT + 1, (socket) => {
      socket.write('HTTP/1.1 200 OK\r\n');
      const more = (): void => {
        if (socket.destroyed) return;
        while (socket.write(`x-padding: ${'a'.repeat(1000)}\r\n`));
        socket.once('drain', more);
      };
      more();
    });
    servers.push(server);
    const error = await rejection(fetchDocument(url, { what: 'consensus', retry: NO_RETRY }));
    assert.equal(error.code, 'NODE_SOURCE_UNAVAILABLE');
    assert.match(error.message, /header/i);
  });

  test('a body that stalls fails after the timeout', async () => {
    const { url, server } = await rawServer(PORT + 2, (socket) => {
      socket.write('HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n0123456789');
    });
    servers.push(server);
    const error = await rejection(fetchDocument(url, { what: 'consensus', retry: NO_RETRY, timeoutMs: 300 }));
    assert.equal(error.code, 'NODE_SOURCE_UNAVAILABLE');
  });

  test('a body larger than maxBytes is refused', async () => {
    const { url, server } = await rawServer(PORT + 3, (socket) => {
      socket.end(`HTTP/1.0 200 OK\r\n\r\n${'x'.repeat(100_000)}`);
    });
    servers.push(server);
    const error = await rejection(fetchDocument(url, { what: 'consensus', retry: NO_RETRY, maxBytes: 50_000 }));
    assert.match(error.message, /larger than 50000 bytes/);
  });

  test('a garbage status line fails the fetch', async () => {
    const { url, server } = await rawServer(PORT + 4, (socket) => {
      socket.end('SSH-2.0-OpenSSH_9.2\r\n\r\n');
    });
    servers.push(server);
    const error = await rejection(fetchDocument(url, { what: 'consensus', retry: NO_RETRY }));
    assert.equal(error.code, 'NODE_SOURCE_UNAVAILABLE');
  });
});
