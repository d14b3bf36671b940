import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, request as httpRequest, type Server as HttpServer } from 'node:http';
import { connect, createServer, type Server, type Socket } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { silentLogger } from '../logger.js';
import { openNodeDatabase } from '../nodes/node-db-file.js';
import { runAria2c } from '../testing/aria2c.js';
import { startContentHarness, type ContentHarness, type ContentHarnessOptions } from '../testing/content-harness.js';
import { contentCall, type ContentAnswer } from '../testing/content-client.js';
import { startMicrosocks, type ProxyDaemon } from '../testing/proxy-daemons.js';
import { tempDir } from '../testing/temp-dir.js';
import { ContentServiceParts } from './content-service.js';
import { signature } from './hmac-auth.js';
import { parseTorrentInfo } from './torrent-file.js';

// Ports 29260-29299: the service's API and seeder, two origins, the crash child's API and seeder, the restarted
// crash service's, aria2c's. SOCKS servers listen on port 0.
const API_PORT = 29260;
const PEER_PORT = 29261;
const ORIGIN_PORT = 29262;
const HTTP_ORIGIN_PORT = 29263;
const CHILD_API_PORT = 29264;
const CHILD_PEER_PORT = 29265;
const AFTER_CRASH_API_PORT = 29266;
const AFTER_CRASH_PEER_PORT = 29267;
const READ_TIMEOUT_API_PORT = 29268;
const READ_TIMEOUT_PEER_PORT = 29269;
const ARIA_PORT = 29280;
const SECRET = 'content-hostile-test-secret-0123';
const TOKEN = 'content-hostile-token-alpha';
const KiB = 1024;
const MiB = 1024 * KiB;
const MAX_BYTES = MiB;

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it holds, or fails naming `what` after `ms`. */
async function eventually(
  what: string,
  check: () => boolean | Promise<boolean>,
  ms = 10_000,
  every = 25,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`not within ${ms} ms: ${what}`);
    await pause(every);
  }
}

interface RawAnswer {
  readonly status: number;
  readonly head: string;
  readonly body: unknown;
  readonly text: string;
}

/**
 * A raw TCP client of the API: `write` sends what it likes; resolves with what came back once the service closes
 * (or `waitMs` passed), the status and JSON body parsed.
 */
function rawCall(
  port: number,
  write: (socket: Socket) => void,
  options: { readonly waitMs?: number; readonly localAddress?: string } = {},
): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const socket = connect({
      host: '127.0.0.1',
      port,
      ...(options.localAddress ? { localAddress: options.localAddress } : {}),
    });
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const all = Buffer.concat(chunks).toString('utf8');
      const split = all.indexOf('\r\n\r\n');
      const head = split < 0 ? all : all.slice(0, split);
      const text = split < 0 ? '' : all.slice(split + 4);
      let body: unknown;
      try {
        body = JSON.parse(text) as unknown;
      } catch {
        body = null;
      }
      resolve({ status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0), head, body, text });
    };
    const timer = setTimeout(finish, options.waitMs ?? 15_000);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('close', finish);
    socket.on('error', () => undefined);
    socket.on('connect', () => {
      write(socket);
    });
  });
}

/** The error of a JSON refusal, asserted to be one. */
function refusal(
  answer: { status: number; body: unknown },
  status: number,
  what = '',
): { code: string; message: string; field: string | null } {
  const error = (answer.body as { error?: { code: string; message: string; field: string | null } } | null)?.error;
  assert.equal(answer.status, status, `${what}: ${JSON.stringify(answer.body)}`);
  assert.ok(error, `a JSON error body: ${JSON.stringify(answer.body)}`);
  assert.ok(error.message.length > 10, error.message);
  return error;
}

/** A SOCKS5 server that misbehaves as told; its sockets still open are counted. */
function fakeSocks(behaviour: 'garbage' | 'hangup' | 'silent'): { server: Server; open: Set<Socket> } {
  const open = new Set<Socket>();
  const server = createServer((socket) => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    socket.on('error', () => undefined);
    socket.once('data', () => {
      if (behaviour === 'garbage') socket.write(randomBytes(64));
      if (behaviour === 'hangup') socket.destroy();
    });
  });
  return { server, open };
}

describe(
  'the content jobs service against hostile clients, origins, proxies and crashes',
  { concurrency: false },
  () => {
    const dir = tempDir('content-hostile');
    const dbFile = path.join(dir, 'data', 'torfleet.db');
    const contentRoot = path.join(dir, 'data', 'content');
    const base = `http://127.0.0.1:${API_PORT}`;
    const origin = `http://127.0.0.1:${ORIGIN_PORT}`;
    const bodies = {
      ok: randomBytes(100 * KiB),
      short: randomBytes(20),
      reset: randomBytes(4 * KiB),
      landing: randomBytes(30 * KiB),
      gzip: gzipSync(randomBytes(50 * KiB)),
      drip: randomBytes(64 * KiB),
      shared: randomBytes(200 * KiB),
      crashReady: randomBytes(80 * KiB),
      pair: randomBytes(40 * KiB),
      race: Array.from({ length: 8 }, () => randomBytes(256 * KiB)),
    };
    let socks: ProxyDaemon;
    const fakes = { garbage: fakeSocks('garbage'), hangup: fakeSocks('hangup'), silent: fakeSocks('silent') };
    const fakePorts: Record<string, number> = {};
    let raw: Server;
    let httpOrigin: HttpServer;
    let harness: ContentHarness;
    let aria = ARIA_PORT;
    /** The raw origin's sockets still open (through microsocks: one per fetch under way). */
    const originOpen = new Set<Socket>();
    const hits = new Map<string, number>();
    /** Request heads the raw origin received at /record. */
    const recorded: string[] = [];
    /** While true, /drip sends 1 KiB every 50 ms forever; then it serves bodies.drip whole. */
    let dripForever = true;
    /** Bytes the raw origin wrote of /huge-headers' header block. */
    let hugeWritten = 0;

    const options = (over: Partial<ContentHarnessOptions> = {}): ContentHarnessOptions => ({
      dbFile,
      contentRoot,
      apiPort: API_PORT,
      peerPort: PEER_PORT,
      upstreams: {
        socks: socks.port,
        garbage: fakePorts.garbage ?? 0,
        hangup: fakePorts.hangup ?? 0,
        silent: fakePorts.silent ?? 0,
      },
      secret: SECRET,
      token: TOKEN,
      env: {
        TORFLEET_TORRENT_MAX_SIZE: '1MiB',
        TORFLEET_TORRENT_RETRIES: '1',
        TORFLEET_TORRENT_CONNECT_TIMEOUT: '2s',
        // Long: a fetch whose response is not let go would hold its socket this long (the tests wait far less).
        TORFLEET_TORRENT_READ_TIMEOUT: '60s',
      },
      ...over,
    });

    const call = (method: string, route: string, body?: unknown, at = base): Promise<ContentAnswer> =>
      contentCall(at, { secret: Buffer.from(SECRET) }, method, route, body);
    const submit = async (url: string, over: Record<string, unknown> = {}, at = base): Promise<string> => {
      const answer = await call('POST', '/v1/requests', { url, route: 'socks', ttl: 3600 + randomTtl(), ...over }, at);
      assert.equal(answer.status, 202, JSON.stringify(answer.body));
      return (answer.body as { id: string }).id;
    };
    const job = async (id: string, at = base): Promise<Record<string, unknown>> =>
      (await call('GET', `/v1/requests/${id}`, undefined, at)).body as Record<string, unknown>;
    const until = async (
      id: string,
      statuses: readonly string[],
      at = base,
      ms = 20_000,
    ): Promise<Record<string, unknown>> => {
      let last: Record<string, unknown> = {};
      await eventually(
        `job ${id} is one of ${statuses.join('/')}`,
        async () => {
          last = await job(id, at);
          return statuses.includes(String(last.status));
        },
        ms,
        // 10 calls a second: within the per-client rate limit (20/s).
        100,
      ).catch((error: unknown) => {
        throw new Error(`${String(error)}: ${JSON.stringify(last)}`);
      });
      return last;
    };
    /** A job's end: FAILED or READY (the test says which). */
    const ended = (id: string, at = base): Promise<Record<string, unknown>> =>
      until(id, ['FAILED', 'READY', 'CANCELLED'], at);
    const partials = (root = contentRoot): string[] => {
      const tmp = path.join(root, 'tmp');
      return existsSync(tmp) ? readdirSync(tmp) : [];
    };
    const stored = (hash: string, root = contentRoot): string =>
      path.join(root, hash.slice(0, 2), hash.slice(2, 4), hash);
    /** No worker busy, no origin or fake-proxy socket left open, no partial file. */
    const settled = async (): Promise<void> => {
      await eventually('the workers are idle', async () => {
        const health = (await (await fetch(`${base}/v1/health`)).json()) as { working: number };
        return health.working === 0;
      });
      await eventually(`the origin's sockets closed (${originOpen.size} open)`, () => originOpen.size === 0, 5000);
      for (const [name, fake] of Object.entries(fakes)) {
        await eventually(`the ${name} SOCKS server's sockets closed`, () => fake.open.size === 0, 5000);
      }
      assert.deepEqual(partials(), [], 'no partial file left');
    };

    let ttlCounter = 0;
    /** Each job request differs (an identical signed POST twice in a second is a replay). */
    const randomTtl = (): number => (ttlCounter += 1);

    const serveRaw = (socket: Socket, target: string, head: string): void => {
      const status = (code: string, headers: string[], body = ''): void => {
        socket.end(`HTTP/1.1 ${code}\r\n${[...headers, 'connection: close'].join('\r\n')}\r\n\r\n${body}`);
      };
      const octets = (body: Buffer, extra: string[] = []): void => {
        socket.write(
          `HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\ncontent-length: ${body.length}\r\n${extra.join('')}connection: close\r\n\r\n`,
        );
        socket.end(body);
      };
      const hit = (hits.get(target) ?? 0) + 1;
      hits.set(target, hit);
      switch (target) {
        case '/ok':
          octets(bodies.ok);
          return;
        case '/record':
          recorded.push(head);
          octets(Buffer.from('recorded'));
          return;
        case '/bad-headers':
          socket.end('HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\nthis is no header\r\n\r\nbody');
          return;
        case '/short':
          // Declares 10 bytes, sends 20: only the 10 declared are the body.
          socket.end(
            Buffer.concat([
              Buffer.from('HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\ncontent-length: 10\r\n\r\n'),
              bodies.short,
            ]),
          );
          return;
        case '/long':
          // Declares 100 bytes, sends 50 and closes.
          socket.end(
            Buffer.concat([
              Buffer.from('HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\ncontent-length: 100\r\n\r\n'),
              randomBytes(50),
            ]),
          );
          return;
        case '/endless': {
          socket.write(
            'HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\ntransfer-encoding: chunked\r\n\r\n',
          );
          const chunk = Buffer.concat([Buffer.from('10000\r\n'), randomBytes(0x10000), Buffer.from('\r\n')]);
          const more = (): void => {
            while (!socket.destroyed && socket.write(chunk));
          };
          socket.on('drain', more);
          more();
          return;
        }
        case '/stall':
          return;
        case '/silent-mid-body':
          // 100 of 1000 declared bytes, then silence with the connection open.
          socket.write('HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\ncontent-length: 1000\r\n\r\n');
          socket.write(randomBytes(100));
          return;
        case '/reset-once':
          if (hit === 1) {
            socket.write(
              `HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\ncontent-length: ${bodies.reset.length}\r\n\r\n`,
            );
            socket.write(bodies.reset.subarray(0, 1000), () => socket.resetAndDestroy());
            return;
          }
          octets(bodies.reset);
          return;
        case '/loop':
          status('302 Found', ['location: /loop', 'content-length: 0']);
          return;
        case '/elsewhere':
          status('302 Found', [`location: http://127.0.0.1:${HTTP_ORIGIN_PORT}/landing`, 'content-length: 0']);
          return;
        case '/to-file':
          status('302 Found', ['location: file:///etc/passwd', 'content-length: 0']);
          return;
        case '/to-ftp':
          status('301 Moved', ['location: ftp://127.0.0.1/file', 'content-length: 0']);
          return;
        case '/huge-headers': {
          // A 30 MB header block, written as fast as the reader takes it, until it hangs up.
          socket.write('HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\n');
          const line = `x-pad: ${'a'.repeat(1000)}\r\n`;
          const more = (): void => {
            while (!socket.destroyed && hugeWritten < 30 * MiB) {
              hugeWritten += line.length;
              if (!socket.write(line)) return;
            }
            if (!socket.destroyed) socket.end('\r\n');
          };
          socket.on('drain', more);
          more();
          return;
        }
        case '/gzip':
          octets(bodies.gzip, ['content-encoding: gzip\r\n']);
          return;
        case '/drip': {
          if (!dripForever) {
            octets(bodies.drip);
            return;
          }
          socket.write('HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\n\r\n');
          const timer = setInterval(() => socket.write(randomBytes(KiB)), 50);
          socket.on('close', () => {
            clearInterval(timer);
          });
          return;
        }
        case '/shared-slow': {
          // bodies.shared in 10 pieces, 100 ms apart.
          socket.write(
            `HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\ncontent-length: ${bodies.shared.length}\r\n\r\n`,
          );
          let piece = 0;
          const size = bodies.shared.length / 10;
          const timer = setInterval(() => {
            socket.write(bodies.shared.subarray(piece * size, (piece + 1) * size));
            piece += 1;
            if (piece === 10) {
              clearInterval(timer);
              socket.end();
            }
          }, 100);
          socket.on('close', () => {
            clearInterval(timer);
          });
          return;
        }
        case '/crash-ready':
          octets(bodies.crashReady);
          return;
        case '/pair':
          octets(bodies.pair);
          return;
        case '/empty':
          octets(Buffer.alloc(0));
          return;
        case '/one-byte':
          octets(Buffer.from('x'));
          return;
        default: {
          const race = /^\/race\/(\d+)$/.exec(target);
          const body = race ? bodies.race[Number(race[1])] : undefined;
          if (body) {
            octets(body);
            return;
          }
          status('404 Not Found', ['content-length: 0']);
        }
      }
    };

    before(async () => {
      socks = await startMicrosocks();
      for (const [name, fake] of Object.entries(fakes)) {
        await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
        const address = fake.server.address();
        assert.ok(address && typeof address === 'object');
        fakePorts[name] = address.port;
      }
      raw = createServer((socket) => {
        originOpen.add(socket);
        socket.on('close', () => originOpen.delete(socket));
        socket.on('error', () => undefined);
        let head = Buffer.alloc(0);
        const onData = (chunk: Buffer): void => {
          head = Buffer.concat([head, chunk]);
          const end = head.indexOf('\r\n\r\n');
          if (end < 0) {
            if (head.length > 64 * KiB) socket.destroy();
            return;
          }
          socket.off('data', onData);
          const text = head.subarray(0, end).toString('latin1');
          serveRaw(socket, text.split(' ')[1] ?? '', text);
        };
        socket.on('data', onData);
      });
      await new Promise<void>((resolve) => raw.listen(ORIGIN_PORT, '127.0.0.1', resolve));
      httpOrigin = createHttpServer((_request, response) => {
        response.writeHead(200, { 'content-type': 'application/octet-stream' });
        response.end(bodies.landing);
      });
      await new Promise<void>((resolve) => httpOrigin.listen(HTTP_ORIGIN_PORT, '127.0.0.1', resolve));
      harness = await startContentHarness(options());
    });

    after(async () => {
      await harness.stop();
      for (const socket of originOpen) socket.destroy();
      await new Promise((resolve) => raw.close(resolve));
      httpOrigin.closeAllConnections();
      await new Promise((resolve) => httpOrigin.close(resolve));
      for (const fake of Object.values(fakes)) {
        for (const socket of fake.open) socket.destroy();
        await new Promise((resolve) => fake.server.close(resolve));
      }
      await socks.stop();
    });

    describe('API clients', () => {
      test('garbage bytes, a 100 KB header, and a CONNECT are JSON 4xx; the service answers on', async () => {
        const garbage = await rawCall(API_PORT, (socket) => socket.write(randomBytes(512)));
        refusal(garbage, 400);
        const big = await rawCall(API_PORT, (socket) =>
          socket.write(`GET /v1/health HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(100 * KiB)}\r\n\r\n`),
        );
        assert.equal(refusal(big, 431).code, 'headers_too_large');
        const proxy = await rawCall(API_PORT, (socket) => socket.write('CONNECT example.org:443 HTTP/1.1\r\n\r\n'));
        refusal(proxy, 405);
        assert.equal((await fetch(`${base}/v1/health`)).status, 200);
      });

      test('a half request then silence gets a JSON 408 and is closed', async () => {
        const half = await rawCall(API_PORT, (socket) => socket.write('GET /v1/health HTTP/1.1\r\nhost: x\r\n'), {
          waitMs: 20_000,
        });
        assert.equal(refusal(half, 408).code, 'request_timeout');
      });

      test('a chunked body over the cap (no Content-Length) is a 413, read no further than the cap', async () => {
        const answer = await rawCall(API_PORT, (socket) => {
          const ts = String(Math.floor(Date.now() / 1000));
          socket.write(
            `POST /v1/requests HTTP/1.1\r\nhost: x\r\nx-timestamp: ${ts}\r\nx-signature: ${'0'.repeat(64)}\r\ntransfer-encoding: chunked\r\n\r\n`,
          );
          // 300 KiB in 4 KiB chunks, and never the last chunk.
          for (let i = 0; i < 75; i++) socket.write(`1000\r\n${'a'.repeat(4096)}\r\n`);
        });
        assert.equal(refusal(answer, 413).code, 'body_too_large');
        const declared = await rawCall(API_PORT, (socket) =>
          socket.write(`POST /v1/requests HTTP/1.1\r\nhost: x\r\ncontent-length: ${String(10 * MiB)}\r\n\r\n{`),
        );
        assert.equal(refusal(declared, 413).code, 'body_too_large');
      });

      test('a Content-Length longer than what is sent, then a half close: a 4xx JSON answer, and the service answers on', async () => {
        const answer = await rawCall(API_PORT, (socket) => {
          socket.write('POST /v1/requests HTTP/1.1\r\nhost: x\r\ncontent-length: 1000\r\n\r\n{"url":');
          socket.end();
        });
        assert.equal(refusal(answer, 400).code, 'bad_request');
        assert.equal((await fetch(`${base}/v1/health`)).status, 200);
      });

      test('a slow-loris body (a byte a second, never done) gets a JSON 408 and is closed', async () => {
        let timer: NodeJS.Timeout | undefined;
        const answer = await rawCall(
          API_PORT,
          (socket) => {
            socket.write('POST /v1/requests HTTP/1.1\r\nhost: x\r\ncontent-length: 1000\r\n\r\n{');
            timer = setInterval(() => socket.write(' '), 1000);
            socket.on('close', () => {
              clearInterval(timer);
            });
          },
          { waitMs: 45_000 },
        );
        clearInterval(timer);
        assert.equal(refusal(answer, 408).code, 'request_timeout');
      });

      test('hostile JSON bodies are 400s naming the field', async () => {
        const url = `${origin}/ok`;
        const nested = `{"url":"${url}","route":"socks","headers":{"a":${'['.repeat(100_000)}${']'.repeat(100_000)}}}`;
        const cases: [string, unknown, string | null][] = [
          ['invalid UTF-8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d]).toString('latin1'), null],
          ['deeply nested', nested, 'headers.a'],
          ['nested body', `${'['.repeat(120_000)}${']'.repeat(120_000)}`, null],
          ['a huge ttl', `{"url":"${url}","route":"socks","ttl":1e400}`, 'ttl'],
          ['a ttl past 2^53', `{"url":"${url}","route":"socks","ttl":9007199254740993}`, 'ttl'],
          ['__proto__', `{"url":"${url}","route":"socks","__proto__":{"polluted":1}}`, '__proto__'],
          ['constructor', `{"url":"${url}","route":"socks","constructor":{"prototype":{"polluted":1}}}`, 'constructor'],
          ['credentials', { url: 'http://user:pw@127.0.0.1/ok', route: 'socks' }, 'url'],
          ['a 300-character host', { url: `http://${'a'.repeat(300)}.example/`, route: 'socks' }, 'url'],
          ['port 0', { url: 'http://127.0.0.1:0/ok', route: 'socks' }, 'url'],
          ['a 10 KB route', { url, route: 'a'.repeat(10 * KiB) }, 'route'],
          ['CRLF in a header', { url, route: 'socks', headers: { 'x-a': 'b\r\nhost: evil' } }, 'headers.x-a'],
          ['LF in a header', { url, route: 'socks', headers: { 'x-a': 'b\nx-b: c' } }, 'headers.x-a'],
          ['a control character in a header', { url, route: 'socks', headers: { 'x-a': 'b\u0001' } }, 'headers.x-a'],
          ['DEL in a header', { url, route: 'socks', headers: { 'x-a': 'b\u007f' } }, 'headers.x-a'],
          ['a non-Latin-1 header value', { url, route: 'socks', headers: { 'x-a': 'price €5' } }, 'headers.x-a'],
          ['CRLF in a header name', { url, route: 'socks', headers: { 'x-a\r\nhost': 'b' } }, 'headers'],
          ['Host as a header', { url, route: 'socks', headers: { HOST: 'evil' } }, 'headers.HOST'],
          ['a body on a GET', { url, route: 'socks', body: 'x' }, 'body'],
          ['no body', '', null],
          ['an array', '[]', null],
          ['a number', '1e999999', null],
        ];
        for (const [what, body, field] of cases) {
          const answer = await call('POST', '/v1/requests', body);
          const error = refusal(answer, 400, what);
          assert.equal(error.field, field, `${what}: ${error.message}`);
        }
        assert.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype polluted');
        assert.equal((await fetch(`${base}/v1/health`)).status, 200);
      });

      test('headers sent as given reach the origin as given, no more (no injection)', async () => {
        recorded.length = 0;
        const id = await submit(`${origin}/record`, {
          headers: { 'x-one': 'a: b; c', 'x-two': ' spaced\tout ', Cookie: 'k=v' },
        });
        assert.equal((await ended(id)).status, 'READY');
        assert.equal(recorded.length, 1);
        const lines = (recorded[0] ?? '').split('\r\n').slice(1);
        assert.ok(lines.includes('x-one: a: b; c'), lines.join(' | '));
        assert.ok(lines.includes('Cookie: k=v'), lines.join(' | '));
        assert.deepEqual(
          lines.filter((line) => /^host:/i.test(line)),
          [`host: 127.0.0.1:${ORIGIN_PORT}`],
        );
      });

      test('signature abuse: wrong length, not hex, two signatures, odd timestamps are 401s naming the header', async () => {
        const body = Buffer.from(JSON.stringify({ url: `${origin}/ok`, route: 'socks' }));
        const now = Math.floor(Date.now() / 1000);
        const good = (ts: string): string => signature(Buffer.from(SECRET), 'POST', '/v1/requests', ts, body);
        const send = (headers: string): Promise<RawAnswer> =>
          rawCall(API_PORT, (socket) => {
            socket.write(
              `POST /v1/requests HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n${headers}\r\n`,
            );
            socket.write(body);
          });
        const cases: [string, string, string][] = [
          [
            'a short signature',
            `x-timestamp: ${now}\r\nx-signature: ${good(String(now)).slice(0, 63)}\r\n`,
            'X-Signature',
          ],
          ['a long signature', `x-timestamp: ${now}\r\nx-signature: ${good(String(now))}00\r\n`, 'X-Signature'],
          ['not hex', `x-timestamp: ${now}\r\nx-signature: ${'zz'.repeat(32)}\r\n`, 'X-Signature'],
          [
            'two signatures',
            `x-timestamp: ${now}\r\nx-signature: ${good(String(now))}\r\nx-signature: ${good(String(now))}\r\n`,
            'X-Signature',
          ],
          ['milliseconds', `x-timestamp: ${now * 1000}\r\nx-signature: ${good(String(now * 1000))}\r\n`, 'X-Timestamp'],
          ['negative', `x-timestamp: -${now}\r\nx-signature: ${good(`-${now}`)}\r\n`, 'X-Timestamp'],
          ['inner spaces', `x-timestamp: ${now} 1\r\nx-signature: ${good(`${now} 1`)}\r\n`, 'X-Timestamp'],
          ['a fraction', `x-timestamp: ${now}.5\r\nx-signature: ${good(`${now}.5`)}\r\n`, 'X-Timestamp'],
          [
            'two timestamps',
            `x-timestamp: ${now}\r\nx-timestamp: ${now}\r\nx-signature: ${good(String(now))}\r\n`,
            'X-Timestamp',
          ],
        ];
        for (const [what, headers, field] of cases) {
          const error = refusal(await send(headers), 401, what);
          assert.equal(error.field, field, `${what}: ${error.message}`);
        }
        // A bearer token and a signature: the bearer decides (a wrong one is refused even with a good signature).
        const both = await send(
          `authorization: Bearer wrong\r\nx-timestamp: ${now}\r\nx-signature: ${good(String(now))}\r\n`,
        );
        assert.equal(refusal(both, 401).field, 'Authorization');
        const ts = String(now + 1);
        const accepted = await send(
          `authorization: Bearer ${TOKEN}\r\nx-timestamp: ${ts}\r\nx-signature: ${'0'.repeat(64)}\r\n`,
        );
        assert.equal(accepted.status, 202, accepted.text);
      });

      test('path traversal in job ids and queries on the signed path', async () => {
        const id = await submit(`${origin}/ok`);
        await ended(id);
        for (const target of [
          '/v1/requests/../../x',
          '/v1/requests/..%2f..%2fetc%2fpasswd',
          '/v1/requests/%2e%2e',
          `/v1/requests/${id}/../${id}`,
          `/v1/requests/${id}%00`,
          `/v1/requests/${id}/torrent/..`,
          '/v1/requests/' + 'a'.repeat(65),
        ]) {
          // Sent as written (fetch would normalise the dots away), signed as sent.
          const ts = String(Math.floor(Date.now() / 1000));
          const signed = signature(Buffer.from(SECRET), 'GET', target, ts, Buffer.alloc(0));
          const answer = await rawCall(API_PORT, (socket) =>
            socket.write(
              `GET ${target} HTTP/1.1\r\nhost: x\r\nx-timestamp: ${ts}\r\nx-signature: ${signed}\r\nconnection: close\r\n\r\n`,
            ),
          );
          assert.equal(refusal(answer, 404, target).code, 'not_found', target);
        }
        // The query is part of what is signed: signed with it, it is read; signed without, refused.
        assert.equal((await call('GET', `/v1/requests/${id}?x=1&y=%2e%2e`)).status, 200);
        const now = String(Math.floor(Date.now() / 1000));
        const unsigned = await fetch(`${base}/v1/requests/${id}?x=1`, {
          headers: {
            'x-timestamp': now,
            'x-signature': signature(Buffer.from(SECRET), 'GET', `/v1/requests/${id}`, now, Buffer.alloc(0)),
          },
        });
        assert.equal(unsigned.status, 401);
        // A body on a GET is signed like any body; POST with no body is invalid JSON, not a crash.
        const withBody = await rawCall(API_PORT, (socket) => {
          const ts = String(Math.floor(Date.now() / 1000));
          const signed = signature(Buffer.from(SECRET), 'GET', `/v1/requests/${id}`, ts, Buffer.from('ignored'));
          socket.write(
            `GET /v1/requests/${id} HTTP/1.1\r\nhost: x\r\nx-timestamp: ${ts}\r\nx-signature: ${signed}\r\ncontent-length: 7\r\nconnection: close\r\n\r\nignored`,
          );
        });
        assert.equal(withBody.status, 200, withBody.text);
        assert.equal(refusal(await call('POST', '/v1/requests'), 400).code, 'invalid_json');
        assert.equal(refusal(await call('PUT', `/v1/requests/${id}`), 405).code, 'method_not_allowed');
      });

      test('1000 jobs at once from one client: 429s with Retry-After, never a 5xx; the per-peer limit holds another address back', async () => {
        const body = (i: number): string => JSON.stringify({ url: `${origin}/ok`, route: 'nowhere', ttl: 60 + i });
        const started = Date.now();
        const answers = await Promise.all(
          Array.from({ length: 1000 }, (_, i) =>
            fetch(`${base}/v1/requests`, {
              method: 'POST',
              headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
              body: body(i),
            }).then(async (response) => ({
              status: response.status,
              retryAfter: response.headers.get('retry-after'),
              body: await response.json(),
            })),
          ),
        );
        const statuses = new Set(answers.map((answer) => answer.status));
        assert.deepEqual([...statuses].sort(), [202, 429]);
        const limited = answers.filter((answer) => answer.status === 429);
        // The client's bucket: 40 at once, 20 a second after.
        const allowed = answers.length - limited.length;
        const seconds = (Date.now() - started) / 1000;
        assert.ok(allowed <= 40 + Math.ceil(20 * seconds) + 1, `${allowed} accepted in ${seconds} s`);
        for (const answer of limited) {
          assert.match(String(answer.retryAfter), /^[1-9]\d*$/);
          assert.equal((answer.body as { error: { code: string } }).error.code, 'rate_limited');
        }
        // Another peer address (127.0.0.2) hammering the unauthenticated health route is held back by itself.
        const fromPeer = (): Promise<{ status: number; retryAfter: string | undefined }> =>
          new Promise((resolve, reject) => {
            const request = httpRequest(
              { host: '127.0.0.1', port: API_PORT, path: '/v1/health', localAddress: '127.0.0.2', agent: false },
              (response) => {
                response.resume();
                const retry = response.headers['retry-after'];
                resolve({
                  status: response.statusCode ?? 0,
                  retryAfter: typeof retry === 'string' ? retry : undefined,
                });
              },
            );
            request.on('error', reject);
            request.end();
          });
        const peer = await Promise.all(Array.from({ length: 150 }, fromPeer));
        assert.ok(peer.some((answer) => answer.status === 429 && answer.retryAfter !== undefined));
        assert.ok(peer.filter((answer) => answer.status === 200).length >= 100);
        assert.equal((await fetch(`${base}/v1/health`)).status, 200, '127.0.0.1 is a peer of its own');
        await settled();
      });
    });

    describe('origins behind the route', () => {
      test('invalid response headers: retried, then FAILED with a readable message', async () => {
        const failed = await ended(await submit(`${origin}/bad-headers`));
        assert.equal(failed.status, 'FAILED');
        assert.match(String(failed.error_message), /the request failed: Parse Error/);
        assert.equal(failed.attempts, 2);
        await settled();
      });

      test('a Content-Length smaller than the body keeps the declared bytes; a longer one then a close is retried', async () => {
        const short = await ended(await submit(`${origin}/short`));
        assert.equal(short.status, 'READY', String(short.error_message));
        assert.equal(short.content_size, 10);
        assert.equal(short.content_hash, sha256(bodies.short.subarray(0, 10)));
        const long = await ended(await submit(`${origin}/long`));
        assert.equal(long.status, 'FAILED');
        assert.equal(long.attempts, 2);
        assert.match(String(long.error_message), /aborted|closed|reset/i);
        await settled();
      });

      test('a never-ending chunked body stops at the limit: the file never exceeds it and the origin is let go at once', async () => {
        const id = await submit(`${origin}/endless`);
        let largest = 0;
        for (;;) {
          const tmp = path.join(contentRoot, 'tmp');
          for (const name of partials()) {
            try {
              const { size } = statSync(path.join(tmp, name));
              largest = Math.max(largest, size);
            } catch {
              // removed meanwhile
            }
          }
          const now = await job(id);
          if (now.status === 'FAILED') {
            assert.match(String(now.error_message), /larger than the limit of 1048576 bytes/);
            break;
          }
          assert.notEqual(now.status, 'READY');
          for (let i = 0; i < 20; i++) {
            for (const name of partials()) {
              try {
                largest = Math.max(largest, statSync(path.join(tmp, name)).size);
              } catch {
                // removed meanwhile
              }
            }
            await pause(5);
          }
        }
        assert.ok(largest <= MAX_BYTES, `the partial file reached ${largest} bytes`);
        // The read timeout is 60 s: a response not let go would keep the origin's socket open that long.
        await settled();
      });

      test('an origin that stalls before its headers: the connect timeout fires, retried once, then FAILED', async () => {
        const failed = await ended(await submit(`${origin}/stall`));
        assert.equal(failed.status, 'FAILED');
        assert.match(String(failed.error_message), /no answer within 2000 ms \(TORFLEET_TORRENT_CONNECT_TIMEOUT\)/);
        assert.equal(failed.attempts, 2);
        await settled();
      });

      test('an origin silent mid-body: the read timeout fails the attempt, retried, then FAILED', async () => {
        const other = tempDir('content-read-timeout');
        const quick = await startContentHarness(
          options({
            dbFile: path.join(other, 'torfleet.db'),
            contentRoot: path.join(other, 'content'),
            apiPort: READ_TIMEOUT_API_PORT,
            peerPort: READ_TIMEOUT_PEER_PORT,
            env: { TORFLEET_TORRENT_RETRIES: '1', TORFLEET_TORRENT_READ_TIMEOUT: '1s' },
          }),
        );
        try {
          const at = `http://127.0.0.1:${READ_TIMEOUT_API_PORT}`;
          const failed = await ended(await submit(`${origin}/silent-mid-body`, {}, at), at);
          assert.equal(failed.status, 'FAILED');
          assert.match(String(failed.error_message), /no data for 1000 ms while reading the body/);
          assert.equal(failed.attempts, 2);
          await eventually('the origin sockets closed', () => originOpen.size === 0, 5000);
        } finally {
          await quick.stop();
        }
      });

      test('a reset mid-body is transient: the retry completes', async () => {
        const ready = await ended(await submit(`${origin}/reset-once`));
        assert.equal(ready.status, 'READY', String(ready.error_message));
        assert.equal(ready.attempts, 1);
        assert.equal(ready.content_hash, sha256(bodies.reset));
        await settled();
      });

      test('redirects: a loop fails after 5; another host and port is followed; file: and ftp: are refused', async () => {
        hits.delete('/loop');
        const loop = await ended(await submit(`${origin}/loop`));
        assert.equal(loop.status, 'FAILED');
        assert.match(String(loop.error_message), /more than 5 redirects/);
        assert.equal(hits.get('/loop'), 6, 'the first request and 5 redirects, not retried');
        const away = await ended(await submit(`${origin}/elsewhere`));
        assert.equal(away.status, 'READY', String(away.error_message));
        assert.equal(away.content_hash, sha256(bodies.landing));
        const file = await ended(await submit(`${origin}/to-file`));
        assert.match(String(file.error_message), /redirected to a file: URL/);
        const ftp = await ended(await submit(`${origin}/to-ftp`));
        assert.match(String(ftp.error_message), /redirected to a ftp: URL/);
        await settled();
      });

      test('a 30 MB header block: refused after a few KiB, not read to the end', async () => {
        hugeWritten = 0;
        const failed = await ended(await submit(`${origin}/huge-headers`));
        assert.equal(failed.status, 'FAILED');
        assert.match(String(failed.error_message), /Header overflow|headers/i);
        await settled();
        assert.ok(hugeWritten < 30 * MiB, `the origin wrote all ${hugeWritten} bytes of headers`);
      });

      test('an empty body fails with a message naming no path on the server; a one-byte body is shared', async () => {
        const empty = await ended(await submit(`${origin}/empty`));
        assert.equal(empty.status, 'FAILED');
        assert.equal(
          empty.error_message,
          'the origin sent an empty body (0 bytes): there is nothing to share as a torrent',
        );
        assert.ok(!existsSync(stored(sha256(Buffer.alloc(0)))), 'the empty file is not kept');
        const one = await ended(await submit(`${origin}/one-byte`));
        assert.equal(one.status, 'READY', String(one.error_message));
        assert.equal(one.content_size, 1);
        assert.equal((await call('GET', `/v1/requests/${String(one.id)}/torrent`)).status, 200);
        assert.equal((await fetch(`${base}/v1/health`)).status, 200);
        await settled();
      });

      test('a gzip Content-Encoding is stored as received', async () => {
        const ready = await ended(await submit(`${origin}/gzip`));
        assert.equal(ready.status, 'READY', String(ready.error_message));
        assert.equal(ready.content_hash, sha256(bodies.gzip));
        assert.equal(ready.content_size, bodies.gzip.length);
      });

      test('an https:// URL whose origin speaks plain HTTP fails the TLS handshake, not retried', async () => {
        const failed = await ended(await submit(`https://127.0.0.1:${HTTP_ORIGIN_PORT}/landing`));
        assert.equal(failed.status, 'FAILED');
        assert.match(String(failed.error_message), /TLS with 127\.0\.0\.1 failed/);
        assert.equal(failed.attempts, 1);
        await settled();
      });
    });

    describe('proxies on the route', () => {
      for (const [route, expected] of [
        ['garbage', /could not reach the origin/],
        ['hangup', /could not reach the origin/],
        ['silent', /could not reach the origin|no answer within 2000 ms/],
      ] as const) {
        test(`a SOCKS server that ${route === 'silent' ? 'never answers' : route === 'garbage' ? 'answers garbage' : 'hangs up in the handshake'}: retried, FAILED with a readable message, no socket left`, async () => {
          const failed = await ended(await submit(`${origin}/ok`, { route }));
          assert.equal(failed.status, 'FAILED');
          assert.match(String(failed.error_message), expected);
          assert.equal(failed.attempts, 2);
          await settled();
        });
      }
    });

    describe('races on shared content', () => {
      test('DELETE at any point of a job (fetching, packaging, seeding, ready) leaves nothing of its content behind', async () => {
        const ids: string[] = [];
        for (const [i] of bodies.race.entries()) {
          const id = await submit(`${origin}/race/${i}`);
          ids.push(id);
          await pause(i * 15);
          const deleted = await call('DELETE', `/v1/requests/${id}`);
          assert.equal(deleted.status, 200);
          assert.equal((deleted.body as { status: string }).status, 'CANCELLED');
        }
        await settled();
        for (const [i, body] of bodies.race.entries()) {
          const id = ids[i] ?? '';
          assert.equal((await job(id)).status, 'CANCELLED');
          assert.ok(!existsSync(stored(sha256(body))), `race ${i}: content freed`);
          assert.ok(!existsSync(`${stored(sha256(body))}.torrent`), `race ${i}: torrent freed`);
          assert.equal((await call('GET', `/v1/requests/${id}/torrent`)).status, 409);
        }
      });

      test('content released by one job while another still holds it stays; freed with the last', async () => {
        const [a, b] = [await submit(`${origin}/pair`), await submit(`${origin}/pair`)];
        const [ja, jb] = [await ended(a), await ended(b)];
        assert.equal(ja.status, 'READY');
        assert.equal(jb.content_hash, ja.content_hash);
        const file = stored(String(ja.content_hash));
        assert.equal((await call('DELETE', `/v1/requests/${a}`)).status, 200);
        assert.ok(existsSync(file), 'b still holds it');
        const torrent = await call('GET', `/v1/requests/${b}/torrent`);
        assert.equal(torrent.status, 200);
        assert.equal((await call('DELETE', `/v1/requests/${b}`)).status, 200);
        assert.ok(!existsSync(file) && !existsSync(`${file}.torrent`), 'freed with the last holder');
      });

      test('content freed by one job while another is still fetching it: the second completes and keeps it', async () => {
        const a = await submit(`${origin}/shared-slow`);
        const ready = await ended(a);
        assert.equal(ready.status, 'READY');
        const b = await submit(`${origin}/shared-slow`);
        await until(b, ['FETCHING']);
        assert.equal((await call('DELETE', `/v1/requests/${a}`)).status, 200);
        const done = await ended(b);
        assert.equal(done.status, 'READY', String(done.error_message));
        assert.equal(done.content_hash, sha256(bodies.shared));
        assert.ok(existsSync(stored(sha256(bodies.shared))), 'the content is there for b');
        assert.equal((await call('GET', `/v1/requests/${b}/torrent`)).status, 200);
        await settled();
      });
    });

    describe('the process', () => {
      test('a fetch under way when the service stops is QUEUED again (not an attempt) and completes on the next start', async () => {
        dripForever = true;
        const id = await submit(`${origin}/drip`);
        await eventually('the drip is being fetched', async () => {
          const now = await job(id);
          return now.status === 'FETCHING' && Number(now.progress) > 0;
        });
        await harness.stop();
        await eventually('the origin socket closed with the stop', () => originOpen.size === 0, 5000);
        const parts = new ContentServiceParts(openNodeDatabase(dbFile, () => new Date(), silentLogger).db);
        const left = parts.store.get(id);
        parts.close();
        assert.equal(left?.status, 'QUEUED');
        assert.equal(left.attempts, 0);
        dripForever = false;
        harness = await startContentHarness(options());
        const ready = await ended(id);
        assert.equal(ready.status, 'READY', String(ready.error_message));
        assert.equal(ready.content_hash, sha256(bodies.drip));
        await settled();
      });

      test('kill -9 mid-fetch: on the next start the partial file is swept, the job completes and READY jobs seed again', async () => {
        const crashDir = tempDir('content-crash');
        const crashDb = path.join(crashDir, 'torfleet.db');
        const crashRoot = path.join(crashDir, 'content');
        const childBase = `http://127.0.0.1:${CHILD_API_PORT}`;
        const script = path.join(
          path.dirname(fileURLToPath(import.meta.url)),
          '..',
          'testing',
          'content-service-child.js',
        );
        const child = spawn(
          process.execPath,
          [
            script,
            JSON.stringify(
              options({ dbFile: crashDb, contentRoot: crashRoot, apiPort: CHILD_API_PORT, peerPort: CHILD_PEER_PORT }),
            ),
          ],
          { stdio: ['ignore', 'pipe', 'pipe'] },
        );
        let output = '';
        child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
        const exited = new Promise<void>((resolve) =>
          child.once('exit', () => {
            resolve();
          }),
        );
        let afterCrash: ContentHarness | null = null;
        try {
          await eventually('the child service is up', () => output.includes('"ready":true'), 15_000).catch(
            (error: unknown) => {
              throw new Error(`${String(error)}: ${output}`);
            },
          );
          const kept = await submit(`${origin}/crash-ready`, {}, childBase);
          const keptJob = await ended(kept, childBase);
          assert.equal(keptJob.status, 'READY', String(keptJob.error_message));
          dripForever = true;
          const id = await submit(`${origin}/drip`, {}, childBase);
          await eventually('the drip is fetched into a partial file', async () => {
            const now = await job(id, childBase);
            return now.status === 'FETCHING' && Number(now.progress) > 0 && partials(crashRoot).length > 0;
          });
          const left = partials(crashRoot);
          assert.ok(child.pid !== undefined);
          process.kill(child.pid, 'SIGKILL');
          await exited;
          assert.deepEqual(partials(crashRoot), left, 'the crash left its partial file');
          await eventually('the origin saw the crashed fetch end', () => originOpen.size === 0, 5000);
          dripForever = false;
          afterCrash = await startContentHarness(
            options({
              dbFile: crashDb,
              contentRoot: crashRoot,
              apiPort: AFTER_CRASH_API_PORT,
              peerPort: AFTER_CRASH_PEER_PORT,
            }),
          );
          const at = `http://127.0.0.1:${AFTER_CRASH_API_PORT}`;
          for (const name of left) assert.ok(!partials(crashRoot).includes(name), `${name} swept`);
          const ready = await ended(id, at);
          assert.equal(ready.status, 'READY', String(ready.error_message));
          assert.equal(ready.content_hash, sha256(bodies.drip));
          assert.equal(ready.attempts, 0, 'a crash is not an attempt');
          const again = await job(kept, at);
          assert.equal(again.status, 'READY');
          assert.equal(again.infohash, keptJob.infohash);
          const torrent = await call('GET', `/v1/requests/${kept}/torrent`, undefined, at);
          assert.equal(torrent.status, 200);
          const info = parseTorrentInfo(torrent.bytes);
          assert.equal(info.announce, `${at}/announce`, 'the torrent announces to the new run');
          const into = tempDir('content-crash-aria2');
          const file = path.join(into, 'kept.torrent');
          writeFileSync(file, torrent.bytes);
          aria += 2;
          const result = await runAria2c({ torrentFile: file, dir: into, listenPort: aria, dhtPort: aria + 1 });
          assert.equal(result.code, 0, result.output);
          assert.equal(sha256(readFileSync(path.join(into, info.name))), sha256(bodies.crashReady));
        } finally {
          if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
            process.kill(child.pid, 'SIGKILL');
            await exited;
          }
          await afterCrash?.stop();
        }
      });
    });
  },
);
