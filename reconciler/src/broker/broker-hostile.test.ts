import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { request as httpRequest, Agent, type IncomingHttpHeaders, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect, type Socket } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TLSSocket } from 'node:tls';
import { gzipSync } from 'node:zlib';
import type { ApiLimits } from '../api/api-server.js';
import { ConfigError } from '../errors.js';
import { createLogger, silentLogger, type Logger } from '../logger.js';
import { openNodeDatabase } from '../nodes/node-db-file.js';
import { brokerRunnable } from '../service/broker-runnable.js';
import { ScriptedPeer } from '../testing/scripted-peer.js';
import { tempDir } from '../testing/temp-dir.js';
import { tokenDigest } from '../token-digest.js';
import { waitFor } from '../wait-for.js';
import { createBrokerServer } from './broker-http.js';
import { createBrokerParts } from './broker-parts.js';
import { readBrokerSettings } from './broker-settings.js';
import type { BrokerMetrics } from './broker-metrics.js';
import type { BrokerService } from './broker-service.js';
import { parseClientTokens } from './client-tokens.js';

/**
 * The broker's HTTP edge against clients that break the rules: raw bytes over `node:net` where a polite client
 * library would repair or refuse the request, floods, bombs, slow clients, and the runnable's file reloads (tokens
 * file, TLS pair). Port block 31010-31099.
 */
const PORT = 31010; // the main in-process server
const PORT_SMALL = 31011; // maxConnections 3
const PORT_TOKENS = 31020; // the runnable, tokens file
const PORT_TLS = 31021; // the runnable, TLS
const PORT_TLS_SMALL = 31022; // in-process HTTPS, small limits
const MIB = 1024 * 1024;
const TOKEN = 'tok-alpha-7f3c2b9e';
const OTHER_TOKEN = 'tok-beta-1a2b3c4d';
const SECRETS = [TOKEN, OTHER_TOKEN, 'Bearer', 'hunter2'];

const logs: string[] = [];
const captured = (into: string[]): Logger => createLogger((line) => into.push(line), 'debug');
const log = captured(logs);

const LIMITS: Partial<ApiLimits> = { headersTimeoutMs: 500, requestTimeoutMs: 1000, checkIntervalMs: 50 };

/** The fixture broker's assembly (testing/fixture-broker.ts), in-process: one US proxy, one EU proxy. */
function assemble(logger: Logger): { service: BrokerService; metrics: BrokerMetrics; close: () => void } {
  const { db } = openNodeDatabase(':memory:', () => new Date(), silentLogger);
  const { service, metrics } = createBrokerParts({ db, leaseTtlSeconds: 300, fallback: 'fail', log: logger });
  service.setFleet({
    proxies: [
      ['us-0', 'us', 'US' as const, ['US'], 19050],
      ['eu-0', 'eu', 'NON_US' as const, ['DE'], 19051],
    ].map(([proxyId, pool, geo, exitCountries, port]) => ({
      proxyId: proxyId as string,
      pool: pool as string,
      geo: geo as 'US' | 'NON_US',
      exclude: [],
      exitCountries: exitCountries as string[],
      host: '127.0.0.1',
      port: port as number,
      mode: 'strict' as const,
      exitFingerprints: [],
    })),
    pools: ['us', 'eu'],
    regions: {},
  });
  return { service, metrics, close: () => db.close() };
}

function tokensOf(clients: readonly { name: string; token: string }[]) {
  const parsed = parseClientTokens(
    'test clients',
    clients.map((client) => `${client.name} ${tokenDigest(client.token).toString('hex')}`).join('\n'),
  );
  if (!parsed.ok) throw new Error(parsed.errors.join('; '));
  return parsed.tokens;
}

const CLIENTS = [
  { name: 'alpha', token: TOKEN },
  { name: 'beta', token: OTHER_TOKEN },
];
const main = assemble(log);
const mainTokens = tokensOf(CLIENTS);
const server = createBrokerServer({
  service: main.service,
  tokens: () => mainTokens,
  metrics: main.metrics,
  rate: { perSecond: 100_000, burst: 200_000 },
  now: Date.now,
  log,
  limits: LIMITS,
});
const small = createBrokerServer({
  service: main.service,
  tokens: () => mainTokens,
  metrics: main.metrics,
  rate: { perSecond: 100_000, burst: 200_000 },
  now: Date.now,
  log,
  limits: { headersTimeoutMs: 20_000, requestTimeoutMs: 30_000, checkIntervalMs: 50, maxConnections: 3 },
});

interface RawAnswer {
  /** 0: the server closed without an HTTP answer. */
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: unknown;
  readonly text: string;
}

/** Sends `bytes` on a fresh connection and reads until the server closes it. */
function raw(
  bytes: string | Buffer,
  options: { port?: number; then?: (socket: Socket) => void; localAddress?: string } = {},
): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const socket = connect(
      {
        port: options.port ?? PORT,
        host: '127.0.0.1',
        ...(options.localAddress ? { localAddress: options.localAddress } : {}),
      },
      () => {
        socket.write(bytes);
        options.then?.(socket);
      },
    );
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined); // the server may close while the client still writes
    socket.on('close', () => {
      resolve(parseRaw(Buffer.concat(chunks).toString('utf8')));
    });
  });
}

function parseRaw(text: string): RawAnswer {
  const [head = '', ...rest] = text.split('\r\n\r\n');
  const [statusLine = '', ...headerLines] = head.split('\r\n');
  const code = Number(/^HTTP\/1\.[01] (\d{3}) /.exec(statusLine)?.[1] ?? 0);
  const headers = Object.fromEntries(
    headerLines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 2)]),
  );
  const bodyText = rest.join('\r\n\r\n');
  let body: unknown = bodyText;
  try {
    body = JSON.parse(bodyText) as unknown;
  } catch {
    // not JSON: the assertion on the body shows it
  }
  return { status: code, headers, body, text };
}

/** Connects, sends nothing (or `first`), and resolves with how long the server kept the socket. */
function silentFor(port: number, first?: Buffer): Promise<number> {
  const started = Date.now();
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      if (first) socket.write(first);
    });
    socket.on('error', () => undefined);
    socket.resume();
    socket.on('close', () => {
      resolve(Date.now() - started);
    });
  });
}

/** Sends `head`, then 64 KiB pieces of `piece` as fast as the socket takes them, until the server closes it. */
async function pumpAfter(
  head: string,
  piece: (size: number) => string,
): Promise<{ answer: RawAnswer; written: number }> {
  let written = 0;
  let closed = false;
  const chunk = piece(64 * 1024);
  const answer = await raw(head, {
    then: (socket) => {
      socket.on('close', () => {
        closed = true;
      });
      const pump = (): void => {
        // Writes on and on: only the server's refusal ends this.
        while (!closed && written < 64 * MIB) {
          written += chunk.length;
          if (!socket.write(chunk)) {
            socket.once('drain', pump);
            return;
          }
        }
      };
      pump();
    },
  });
  return { answer, written };
}

interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: unknown;
}

const keepAlive = new Agent({ keepAlive: true, maxSockets: 4 });
after(() => {
  keepAlive.destroy();
});

/** A polite call with node's HTTP client. */
function call(
  method: string,
  route: string,
  options: {
    body?: unknown;
    text?: string | Buffer;
    token?: string | null;
    gzip?: boolean;
    agent?: Agent;
    port?: number;
  } = {},
): Promise<Answer> {
  let payload: Buffer | undefined =
    options.text !== undefined
      ? Buffer.from(options.text)
      : options.body === undefined
        ? undefined
        : Buffer.from(JSON.stringify(options.body));
  const headers: Record<string, string> = {};
  const token = options.token === undefined ? TOKEN : options.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (payload && options.gzip) {
    payload = gzipSync(payload);
    headers['content-encoding'] = 'gzip';
  }
  if (payload) headers['content-length'] = String(payload.length);
  return new Promise((resolve, reject) => {
    const sent = httpRequest(
      { host: '127.0.0.1', port: options.port ?? PORT, method, path: route, headers, agent: options.agent ?? false },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          try {
            body = JSON.parse(text) as unknown;
          } catch {
            // left as text
          }
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body });
        });
      },
    );
    sent.on('error', reject);
    sent.end(payload);
  });
}

const LEASE = { exchange_id: 'binance', connection_type: 'rest', region: 'US' };
const lease = (agent?: Agent): Promise<Answer> =>
  call('POST', '/api/v1/proxy/request', { body: LEASE, ...(agent ? { agent } : {}) });
const errorCode = (body: unknown): string | undefined => (body as { error?: { code?: string } }).error?.code;

async function assertServing(): Promise<void> {
  const answer = await lease();
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
}

function postHead(route: string, extra: string, token: string | null = TOKEN): string {
  return `POST ${route} HTTP/1.1\r\nHost: x\r\n${token === null ? '' : `Authorization: Bearer ${token}\r\n`}${extra}`;
}

describe('the broker against hostile clients', { concurrency: false }, () => {
  before(async () => {
    await new Promise<void>((resolve) => server.listen(PORT, '127.0.0.1', resolve));
    await new Promise<void>((resolve) => small.listen(PORT_SMALL, '127.0.0.1', resolve));
  });
  after(async () => {
    for (const s of [server, small] as Server[]) {
      s.closeAllConnections();
      await new Promise<void>((resolve) =>
        s.close(() => {
          resolve();
        }),
      );
    }
    main.close();
  });

  describe('bodies', () => {
    test('a Content-Length over 1 MiB: 413 at once, the body never sent', { timeout: 5000 }, async () => {
      const answer = await raw(postHead('/api/v1/proxy/feedback', `Content-Length: ${2 * MIB}\r\n\r\n`));
      assert.equal(answer.status, 413);
      assert.equal(errorCode(answer.body), 'body_too_large');
      assert.equal(answer.headers.connection, 'close');
    });

    test('a chunked body growing past 1 MiB: 413, and the server stops reading', { timeout: 10_000 }, async () => {
      const { answer, written } = await pumpAfter(
        postHead('/api/v1/proxy/feedback', 'Transfer-Encoding: chunked\r\n\r\n'),
        (size) => `${(size - 10).toString(16)}\r\n${'['.repeat(size - 10)}\r\n`,
      );
      assert.equal(answer.status, 413, answer.text.slice(0, 200));
      assert.equal(errorCode(answer.body), 'body_too_large');
      assert.ok(written < 32 * MIB, `the client could write ${String(written)} bytes: the server kept reading`);
      await assertServing();
    });

    test('a gzip bomb (KBs that inflate past 1 MiB): 413, memory bounded', { timeout: 15_000 }, async () => {
      const bomb = gzipSync(Buffer.alloc(64 * MIB, 0x20));
      assert.ok(bomb.length < 100 * 1024, `the bomb is ${bomb.length} bytes`);
      const rss = process.memoryUsage().rss;
      const answers = await Promise.all(
        Array.from({ length: 8 }, () =>
          raw(
            Buffer.concat([
              Buffer.from(
                postHead('/api/v1/proxy/feedback', `Content-Encoding: gzip\r\nContent-Length: ${bomb.length}\r\n\r\n`),
              ),
              bomb,
            ]),
          ),
        ),
      );
      for (const answer of answers) {
        assert.equal(answer.status, 413, answer.text.slice(0, 200));
        assert.equal(errorCode(answer.body), 'body_too_large');
      }
      const grown = (process.memoryUsage().rss - rss) / MIB;
      assert.ok(grown < 200, `rss grew by ${grown.toFixed(0)} MiB for 8 bombs of 64 MiB each`);
    });

    test('gzip garbage: 415 unsupported_encoding naming Content-Encoding', async () => {
      for (const text of [
        randomBytes(200),
        Buffer.from('not gzip at all'),
        gzipSync('{"a":1}').subarray(0, 12),
        Buffer.alloc(0),
      ]) {
        const answer = await raw(
          Buffer.concat([
            Buffer.from(
              postHead('/api/v1/proxy/feedback', `Content-Encoding: gzip\r\nContent-Length: ${text.length}\r\n\r\n`),
            ),
            text,
          ]),
        );
        assert.equal(answer.status, 415, answer.text.slice(0, 200));
        assert.equal(errorCode(answer.body), 'unsupported_encoding');
        assert.equal((answer.body as { error: { field: string } }).error.field, 'Content-Encoding');
      }
      const other = await raw(
        postHead('/api/v1/proxy/feedback', 'Content-Encoding: br\r\nContent-Length: 2\r\n\r\n{}'),
      );
      assert.equal(other.status, 415);
    });

    test('clients closing mid-body: no crash, the next clients served', { timeout: 10_000 }, async () => {
      for (let i = 0; i < 30; i++) {
        await new Promise<void>((resolve) => {
          const socket = connect(PORT, '127.0.0.1', () => {
            socket.write(postHead('/api/v1/proxy/request', 'Content-Length: 5000\r\n\r\n{"exchange_id":'));
            setTimeout(() => (i % 2 === 0 ? socket.destroy() : socket.resetAndDestroy()), 5);
          });
          socket.on('error', () => undefined);
          socket.on('close', () => {
            resolve();
          });
        });
      }
      await assertServing();
    });
  });

  describe('slow and many clients', () => {
    test('headers sent byte by byte: closed after the headers timeout (slowloris)', { timeout: 10_000 }, async () => {
      const request = `${postHead('/api/v1/proxy/request', 'X-Slow: ')}${'a'.repeat(500)}\r\n\r\n`;
      const started = Date.now();
      let sent = 0;
      const answer = await raw(request.slice(0, 1), {
        then: (socket) => {
          sent = 1;
          const drip = setInterval(() => {
            if (sent < request.length) socket.write(request[sent++] ?? '');
          }, 20);
          socket.on('close', () => {
            clearInterval(drip);
          });
        },
      });
      assert.ok(sent < request.length, 'the server waited for the whole slow request');
      assert.ok(Date.now() - started < 5000);
      assert.ok(answer.status === 408 || answer.status === 0, answer.text.slice(0, 200));
      if (answer.status === 408) assert.equal(errorCode(answer.body), 'request_timeout');
      await assertServing();
    });

    test('a body trickled forever: closed after the request timeout', { timeout: 10_000 }, async () => {
      const started = Date.now();
      const answer = await raw(postHead('/api/v1/proxy/feedback', 'Content-Length: 100000\r\n\r\n['), {
        then: (socket) => {
          const drip = setInterval(() => socket.write(' '), 20);
          socket.on('close', () => {
            clearInterval(drip);
          });
        },
      });
      const took = Date.now() - started;
      assert.ok(took < 5000, `closed after ${took} ms`);
      assert.ok(answer.status === 408 || answer.status === 0, answer.text.slice(0, 300));
      if (answer.status === 408) {
        assert.equal(errorCode(answer.body), 'request_timeout');
        assert.doesNotMatch(answer.text, /not well-formed/, 'a slow request is not a malformed one');
      }
      await assertServing();
    });

    test('silent sockets are dropped after the headers timeout', { timeout: 10_000 }, async () => {
      const started = Date.now();
      await Promise.all(Array.from({ length: 5 }, () => silentFor(PORT)));
      const took = Date.now() - started;
      assert.ok(took < 5000, `silent sockets held for ${took} ms`);
    });

    test('a body on GET /health: answered, then the body is not read on', { timeout: 10_000 }, async () => {
      const { answer, written } = await pumpAfter(
        `GET /api/v1/proxy/health HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Length: ${String(64 * MIB)}\r\n\r\n`,
        (size) => 'x'.repeat(size),
      );
      assert.equal(answer.status, 200, answer.text.slice(0, 200));
      assert.ok(written < 32 * MIB, `the client could write ${String(written)} bytes: the server kept reading`);
      await assertServing();
    });

    test(
      'beyond maxConnections: refused, and a polite client is served once slots free',
      { timeout: 10_000 },
      async () => {
        const held = await Promise.all(
          Array.from(
            { length: 3 },
            () =>
              new Promise<Socket>((resolve) => {
                const socket = connect(PORT_SMALL, '127.0.0.1', () => {
                  socket.write('POST /api/v1/proxy/request HTTP/1.1\r\n'); // and never more
                  resolve(socket);
                });
                socket.on('error', () => undefined);
              }),
          ),
        );
        await waitFor(
          'the three sockets to be counted',
          () =>
            new Promise<boolean>((resolve) =>
              small.getConnections((_e, n) => {
                resolve(n === 3);
              }),
            ),
        );
        const refused = await raw(
          `GET /api/v1/proxy/health HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\n\r\n`,
          {
            port: PORT_SMALL,
          },
        );
        assert.equal(refused.status, 0, 'the fourth connection is dropped without an answer');
        for (const socket of held) socket.destroy();
        const served = await waitFor('a polite client to be served', async () => {
          const answer = await call('POST', '/api/v1/proxy/request', { body: LEASE, port: PORT_SMALL }).catch(
            () => null,
          );
          return answer?.status === 200 ? answer : undefined;
        });
        assert.equal(served.status, 200);
      },
    );
  });

  describe('not HTTP, or not this HTTP', () => {
    const CASES: readonly [string, string | Buffer, readonly number[]][] = [
      ['random bytes', randomBytes(512), [400, 0]],
      ['a line of text', 'HELLO BROKER\r\n\r\n', [400, 0]],
      ['an invalid method', 'FOO /api/v1/proxy/request HTTP/1.1\r\nHost: x\r\n\r\n', [400]],
      ['a method not on the route', 'DELETE /api/v1/proxy/request HTTP/1.1\r\nHost: x\r\n\r\n', [405]],
      ['PUT on health', 'PUT /api/v1/proxy/health HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}', [405]],
      [
        'a header over 16 KiB',
        `GET /api/v1/proxy/health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(17_000)}\r\n\r\n`,
        [431],
      ],
      ['a 100 KB target', `GET /${'a'.repeat(100_000)} HTTP/1.1\r\nHost: x\r\n\r\n`, [431]],
      ['CONNECT', 'CONNECT 127.0.0.1:9050 HTTP/1.1\r\nHost: 127.0.0.1:9050\r\n\r\n', [405]],
      ['an HTTP/2 preface', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', [400]],
      ['a TLS ClientHello on plain HTTP', Buffer.from('160301020001000200030368656c6c6f', 'hex'), [400, 0]],
      ['a NUL in the request line', 'GET /api/v1/\0proxy/health HTTP/1.1\r\nHost: x\r\n\r\n', [400]],
      [
        'two Content-Lengths',
        postHead('/api/v1/proxy/request', 'Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}'),
        [400],
      ],
      [
        'CL and chunked',
        postHead('/api/v1/proxy/request', 'Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'),
        [400],
      ],
      ['bad chunk size', postHead('/api/v1/proxy/feedback', 'Transfer-Encoding: chunked\r\n\r\nzz\r\n'), [400]],
      ['a negative Content-Length', postHead('/api/v1/proxy/request', 'Content-Length: -1\r\n\r\n'), [400]],
    ];
    for (const [name, bytes, statuses] of CASES) {
      test(
        `${name}: ${statuses.join(' or ')} (0: closed), JSON when answered, never a crash`,
        { timeout: 5000 },
        async () => {
          const answer = await raw(bytes);
          assert.ok(statuses.includes(answer.status), `${answer.status}: ${answer.text.slice(0, 200)}`);
          if (answer.status !== 0) {
            assert.match(answer.headers['content-type'] ?? '', /^application\/json/);
            assert.equal(typeof errorCode(answer.body), 'string', answer.text.slice(0, 200));
          }
          if (name === 'CONNECT') assert.equal(errorCode(answer.body), 'method_not_allowed');
          await assertServing();
        },
      );
    }
  });

  describe('auth', () => {
    const unauthorized = (answer: { status: number; body: unknown }): void => {
      assert.equal(answer.status, 401, JSON.stringify(answer.body));
      assert.equal(errorCode(answer.body), 'unauthorized');
      assert.equal((answer.body as { error: { field: string } }).error.field, 'Authorization');
    };
    const withAuth = (value: string | Buffer): Buffer =>
      Buffer.concat([
        Buffer.from('POST /api/v1/proxy/request HTTP/1.1\r\nHost: x\r\nAuthorization: '),
        Buffer.from(value),
        Buffer.from(
          `\r\nConnection: close\r\nContent-Length: ${JSON.stringify(LEASE).length}\r\n\r\n${JSON.stringify(LEASE)}`,
        ),
      ]);

    // From 127.0.0.3: the flood below (from 127.0.0.2) must not spend this peer's budget.
    const from = { localAddress: '127.0.0.3' };

    test('a huge Authorization header: 401 under 16 KiB, 431 over', async () => {
      unauthorized(await raw(withAuth(`Bearer ${'a'.repeat(15_000)}`), from));
      assert.equal((await raw(withAuth(`Bearer ${'a'.repeat(20_000)}`), from)).status, 431);
    });

    test('"Bearer " with no token, other schemes, a token differing in case: 401', async () => {
      for (const value of [
        'Bearer ',
        'Bearer',
        'Bearer    ',
        `Basic ${TOKEN}`,
        TOKEN,
        `Bearer ${TOKEN.toUpperCase()}`,
        `Bearer  ${TOKEN}`,
        `Bearer ${TOKEN}x`,
        `Bearer${TOKEN}`,
        `Bearer ${TOKEN.slice(0, -1)}`,
      ]) {
        unauthorized(await raw(withAuth(value), from));
      }
    });

    test('unicode and control characters in the token: 401 or a 400 parse error, never a crash', async () => {
      for (const value of [
        Buffer.from(`Bearer ${TOKEN}✓`),
        Buffer.from('Bearer tøkén\u{1F600}'),
        Buffer.from([0x42, 0x65, 0x61, 0x72, 0x65, 0x72, 0x20, 0xff, 0xfe, 0x80]),
      ]) {
        unauthorized(await raw(withAuth(value), from));
      }
      for (const control of ['\u0000', '\u0001', '\u001b', '\u007f']) {
        const answer = await raw(withAuth(`Bearer ${TOKEN}${control}`), from);
        assert.ok([400, 401].includes(answer.status), `${JSON.stringify(control)}: ${answer.text.slice(0, 200)}`);
        assert.equal(typeof errorCode(answer.body), 'string');
      }
      await assertServing();
    });

    test('30 wrong tokens from one peer: 401s, then 429 with Retry-After; a valid client still served', async () => {
      const statuses: number[] = [];
      const started = performance.now();
      for (let i = 0; i < 30; i++) {
        const answer = await raw(withAuth(`Bearer wrong-${i}`), { localAddress: '127.0.0.2' });
        statuses.push(answer.status);
        if (answer.status === 429) {
          assert.equal(errorCode(answer.body), 'rate_limited');
          assert.match(answer.headers['retry-after'] ?? '', /^[1-9]\d*$/);
        } else unauthorized(answer);
        if (i === 25) assert.equal((await raw(withAuth(`Bearer ${TOKEN}`), { localAddress: '127.0.0.2' })).status, 200);
      }
      const first429 = statuses.indexOf(429);
      assert.ok(first429 >= 20 && first429 <= 23, statuses.join(' '));
      assert.ok(
        statuses.slice(0, 20).every((status) => status === 401),
        statuses.join(' '),
      );
      // Past the burst, only what the bucket refilled meanwhile (5 a second) gets through: on a loaded machine
      // the 30 calls take long enough for one or two.
      const refilled = Math.floor(((performance.now() - started) / 1000) * 5) + 1;
      assert.ok(statuses.slice(first429).filter((status) => status !== 429).length <= refilled, statuses.join(' '));
      await assertServing();
      // Another peer is not limited by that one.
      unauthorized(await raw(withAuth('Bearer wrong'), from));
    });
  });

  describe('JSON', () => {
    const post = (route: string, text: string, gzip = false): Promise<Answer> => call('POST', route, { text, gzip });

    test('100k nested [ (open, and closed) and {: 400, not a crash', { timeout: 10_000 }, async () => {
      const deep = 100_000;
      for (const [route, text] of [
        ['/api/v1/proxy/feedback', '['.repeat(deep)],
        ['/api/v1/proxy/feedback', `${'['.repeat(deep)}${']'.repeat(deep)}`],
        ['/api/v1/proxy/request', `${'{"a":'.repeat(deep)}1${'}'.repeat(deep)}`],
        [
          '/api/v1/proxy/request',
          JSON.stringify({ ...LEASE, metadata: { a: 1 } }).replace(
            '{"a":1}',
            `${'{"a":'.repeat(deep)}1${'}'.repeat(deep)}`,
          ),
        ],
      ] as const) {
        const answer = await post(route, text);
        assert.ok([400, 200].includes(answer.status), `${answer.status} ${JSON.stringify(answer.body).slice(0, 200)}`);
        if (answer.status === 400) assert.match(errorCode(answer.body) ?? '', /^invalid_(json|field)$/);
      }
      await assertServing();
    });

    test('huge numbers, duplicate keys: clean answers', async () => {
      const huge = await post(
        '/api/v1/proxy/feedback',
        '{"proxy_id":"us-0","event":"result","success":true,"latency_ms":1e400,"status_code":1e400,"timestamp":1e400}',
      );
      assert.equal(huge.status, 400);
      const stamp = await post('/api/v1/proxy/feedback', '{"proxy_id":"us-0","event":"result","timestamp":1e400}');
      assert.ok([202, 400].includes(stamp.status));
      const big = await post(
        '/api/v1/proxy/feedback',
        `{"proxy_id":"us-0","event":"result","latency_ms":${'9'.repeat(5000)}}`,
      );
      assert.equal(big.status, 400);
      const dup = await post(
        '/api/v1/proxy/request',
        '{"exchange_id":"a","connection_type":"rest","region":"US","region":"ZZ-nowhere"}',
      );
      assert.equal(dup.status, 400);
      assert.equal(errorCode(dup.body), 'unknown_region');
      const dup2 = await post(
        '/api/v1/proxy/request',
        '{"exchange_id":"a","connection_type":"rest","region":"ZZ-nowhere","region":"US"}',
      );
      assert.equal(dup2.status, 200);
      const health = await call('GET', '/api/v1/proxy/health');
      for (const proxy of (health.body as { proxies: { health_score: unknown }[] }).proxies) {
        assert.equal(typeof proxy.health_score, 'number');
      }
    });

    test('__proto__ and constructor keys in request and feedback bodies pollute nothing', async () => {
      const bodies: [string, string][] = [
        [
          '/api/v1/proxy/request',
          '{"__proto__":{"polluted":1},"exchange_id":"a","connection_type":"rest","region":"US"}',
        ],
        [
          '/api/v1/proxy/request',
          '{"exchange_id":"a","connection_type":"rest","region":"US","metadata":{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}}}}',
        ],
        ['/api/v1/proxy/feedback', '{"__proto__":{"polluted":1},"proxy_id":"us-0","event":"result"}'],
        ['/api/v1/proxy/feedback', '[{"proxy_id":"us-0","event":"result","constructor":{"prototype":{"polluted":1}}}]'],
        ['/api/v1/proxy/feedback', '{"proxy_id":"__proto__","event":"result"}'],
        ['/api/v1/proxy/feedback', '{"lease_id":"__proto__","event":"result"}'],
        ['/api/v1/proxy/feedback', '{"proxy_id":"constructor","exchange_id":"__proto__","event":"connect"}'],
        ['/api/v1/proxy/request', '{"exchange_id":"constructor","connection_type":"rest","region":"__proto__"}'],
        ['/api/v1/proxy/request', '{"exchange_id":"__proto__","connection_type":"rest","region":"constructor"}'],
      ];
      for (const [route, text] of bodies) {
        for (const gzip of [false, true]) {
          const answer = await post(route, text, gzip);
          assert.ok(
            [200, 202, 400].includes(answer.status),
            `${text}: ${answer.status} ${JSON.stringify(answer.body)}`,
          );
        }
      }
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
      assert.equal((Object.prototype as Record<string, unknown>).polluted, undefined);
      await assertServing();
      assert.equal((await call('GET', '/api/v1/proxy/health')).status, 200);
    });

    test('NUL and lone surrogates in every string field: clean JSON answers', async () => {
      const strange = ['\u0000', 'a\u0000b', '\ud800', '\udfff', 'x\ud83dy', '\ufffe', '\u202e'];
      const requestFields = ['exchange_id', 'connection_type', 'region', 'client_id'];
      const feedbackFields = [
        'lease_id',
        'proxy_id',
        'proxy_url',
        'exchange_id',
        'connection_type',
        'error_details',
        'timestamp',
        'client_id',
      ];
      for (const value of strange) {
        for (const field of requestFields) {
          const answer = await call('POST', '/api/v1/proxy/request', { body: { ...LEASE, [field]: value } });
          assert.ok([200, 400].includes(answer.status), `${field}=${JSON.stringify(value)}: ${answer.status}`);
        }
        const meta = await call('POST', '/api/v1/proxy/request', { body: { ...LEASE, metadata: { [value]: value } } });
        assert.equal(meta.status, 200);
        for (const field of feedbackFields) {
          const event = { proxy_id: 'us-0', event: 'result', [field]: value };
          const answer = await call('POST', '/api/v1/proxy/feedback', { body: [event] });
          assert.ok([202, 400].includes(answer.status), `${field}=${JSON.stringify(value)}: ${answer.status}`);
        }
        const kind = await call('POST', '/api/v1/proxy/feedback', { body: { proxy_id: 'us-0', event: value } });
        assert.equal(kind.status, 400);
      }
      // Raw bytes that are not UTF-8 at all.
      const bytes = Buffer.concat([
        Buffer.from('{"exchange_id":"a","connection_type":"rest","region":"'),
        Buffer.from([0xc0, 0xff, 0xed, 0xa0, 0x80]),
        Buffer.from('"}'),
      ]);
      assert.equal((await call('POST', '/api/v1/proxy/request', { text: bytes })).status, 400);
      await assertServing();
      assert.equal((await call('GET', '/api/v1/proxy/health')).status, 200);
    });

    test('a 1001-event batch: 400; 1000 events of 1 KB details: a clean JSON answer', async () => {
      const event = { proxy_id: 'us-0', event: 'result', success: true, latency_ms: 10 };
      const over = await call('POST', '/api/v1/proxy/feedback', { body: Array.from({ length: 1001 }, () => event) });
      assert.equal(over.status, 400);
      assert.equal(errorCode(over.body), 'invalid_field');
      const fat = Array.from({ length: 1000 }, () => ({ ...event, success: false, error_details: 'e'.repeat(1024) }));
      for (const gzip of [false, true]) {
        const answer = await call('POST', '/api/v1/proxy/feedback', { body: fat, gzip });
        assert.ok([202, 413].includes(answer.status), `${answer.status} ${JSON.stringify(answer.body).slice(0, 200)}`);
        if (answer.status === 202) assert.deepEqual(answer.body, { accepted: 1000, unmatched: 0 });
        else assert.equal(errorCode(answer.body), 'body_too_large');
      }
      const empty = await call('POST', '/api/v1/proxy/feedback', { body: [] });
      assert.equal(empty.status, 400);
    });
  });

  test(
    'a feedback storm of 10,000 events: every lease request meanwhile answered 200',
    { timeout: 30_000 },
    async () => {
      const leases: string[] = [];
      for (let i = 0; i < 10; i++) {
        const answer = await call('POST', '/api/v1/proxy/request', { body: { ...LEASE, exchange_id: `storm-${i}` } });
        leases.push((answer.body as { metadata: { lease_id: string } }).metadata.lease_id);
      }
      const batch = (b: number): unknown[] =>
        Array.from({ length: 1000 }, (_, i) => ({
          ...(i % 3 === 0
            ? { lease_id: leases[i % leases.length] }
            : i % 3 === 1
              ? { proxy_id: i % 2 ? 'us-0' : 'eu-0' }
              : { proxy_url: 'socks5h://u:p@127.0.0.1:19050' }),
          exchange_id: `storm-${i % 10}`,
          event: 'result',
          success: (i + b) % 7 !== 0,
          latency_ms: 20 + (i % 50),
          status_code: 200,
        }));
      const storm = { on: true };
      const latencies: number[] = [];
      const statuses = new Map<number, number>();
      const stormStarted = performance.now();
      const requester = async (): Promise<void> => {
        const agent = new Agent({ keepAlive: true, maxSockets: 1 });
        while (storm.on) {
          const started = performance.now();
          const answer = await lease(agent);
          latencies.push(performance.now() - started);
          statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        }
        agent.destroy();
      };
      // Three clients asking for leases all through the storm, each on its own keep-alive connection.
      const requesters = Promise.all([requester(), requester(), requester()]);
      const pending = Array.from({ length: 10 }, (_, b) => b);
      let accepted = 0;
      const worker = async (): Promise<void> => {
        for (let b = pending.shift(); b !== undefined; b = pending.shift()) {
          const answer = await call('POST', '/api/v1/proxy/feedback', { body: batch(b), gzip: b % 2 === 0 });
          assert.equal(answer.status, 202, JSON.stringify(answer.body));
          accepted += (answer.body as { accepted: number }).accepted;
        }
      };
      await Promise.all([worker(), worker(), worker(), worker()]);
      storm.on = false;
      const stormMs = performance.now() - stormStarted;
      await requesters;
      assert.equal(accepted, 10_000);
      assert.deepEqual([...statuses.keys()], [200]);
      const sorted = [...latencies].sort((a, b) => a - b);
      const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
      console.log(
        `storm: ${latencies.length} lease requests during 10,000 feedback events (${stormMs.toFixed(0)} ms): p50 ${at(0.5).toFixed(1)} ms, p99 ${at(0.99).toFixed(1)} ms, max ${at(1).toFixed(1)} ms`,
      );
      assert.ok(latencies.length > 0);
      assert.ok(at(1) < 5000, `a lease request took ${at(1)} ms during the storm`);
    },
  );

  test('no token, Authorization value or proxy password in logs, metrics or the health view', async () => {
    const feedback = await call('POST', '/api/v1/proxy/feedback', {
      body: [
        {
          proxy_url: 'socks5h://lease_x:hunter2@127.0.0.1:19050',
          event: 'result',
          success: false,
          error_details: 'socks5h://lease_x:hunter2@127.0.0.1:19050 refused',
        },
        {
          proxy_url: 'http://user:hunter2@[::1]:1/p?hunter2',
          event: 'timeout',
          error_details: 'connect http://a:hunter2@x failed',
        },
      ],
    });
    assert.equal(feedback.status, 202);
    assert.equal(
      (await call('POST', '/api/v1/proxy/feedback', { body: { proxy_url: 'hunter2', event: 'result' } })).status,
      400,
    );
    const health = await call('GET', '/api/v1/proxy/health');
    const metricsText = await main.metrics.registry.metrics();
    for (const secret of SECRETS) {
      assert.ok(!JSON.stringify(health.body).includes(secret), `${secret} in the health view`);
      assert.ok(!metricsText.includes(secret), `${secret} in the metrics`);
      assert.ok(!logs.join('').includes(secret), `${secret} in the logs`);
    }
    assert.deepEqual(
      logs.filter((line) => (JSON.parse(line) as { level: string }).level === 'error'),
      [],
      "a client's mistake was logged as an error",
    );
  });
});

/** Starts the broker runnable with `env`; resolves once it listens. */
async function startRunnable(
  env: Record<string, string>,
  into: string[],
): Promise<{ stop: () => Promise<void>; done: Promise<void>; metrics: BrokerMetrics }> {
  const settings = readBrokerSettings((name) => env[name]);
  if (!settings) throw new Error('no broker settings');
  const logger = captured(into);
  const { service, metrics, close } = assemble(logger);
  const controller = new AbortController();
  let ready!: () => void;
  const listening = new Promise<void>((resolve) => (ready = resolve));
  const done = brokerRunnable({ settings, service, metrics, now: Date.now }).run({
    signal: controller.signal,
    ready: () => {
      ready();
    },
    log: logger,
  });
  await Promise.race([listening, done]).catch((error: unknown) => {
    close();
    throw error;
  });
  return {
    metrics,
    done,
    stop: async () => {
      controller.abort();
      await done;
      close();
    },
  };
}

const line = (name: string, token: string): string => `${name} ${tokenDigest(token).toString('hex')}\n`;
const warned = (into: readonly string[], what: string): boolean =>
  into.some((entry) => {
    const parsed = JSON.parse(entry) as { level: string; msg: string };
    return parsed.level === 'warn' && parsed.msg.includes(what);
  });

describe('the broker runnable: tokens file', { concurrency: false }, () => {
  const dir = tempDir('broker-hostile-tokens');
  const file = path.join(dir, 'tokens');
  const runLogs: string[] = [];
  const env = { TORFLEET_BROKER_TOKENS_FILE: file, TORFLEET_BROKER_LISTEN: `127.0.0.1:${PORT_TOKENS}` };
  const onRunnable = (token: string): Promise<number> =>
    call('POST', '/api/v1/proxy/request', { body: LEASE, token, port: PORT_TOKENS }).then((answer) => answer.status);

  test('an unreadable tokens file at start: run() rejects with a ConfigError naming the setting', async () => {
    for (const bad of [path.join(dir, 'missing'), dir]) {
      await assert.rejects(
        startRunnable({ ...env, TORFLEET_BROKER_TOKENS_FILE: bad }, []).then((r) => r.done),
        (error: unknown) => error instanceof ConfigError && /TORFLEET_BROKER_TOKENS_FILE/.test(error.message),
      );
    }
    writeFileSync(path.join(dir, 'clear'), `alpha ${TOKEN}\n`);
    await assert.rejects(
      startRunnable({ ...env, TORFLEET_BROKER_TOKENS_FILE: path.join(dir, 'clear') }, []).then((r) => r.done),
      (error: unknown) =>
        error instanceof ConfigError &&
        /TORFLEET_BROKER_TOKENS_FILE/.test(error.message) &&
        !error.message.includes(TOKEN),
    );
  });

  test(
    'a client added is let in; a broken change or a deleted file keeps the old clients',
    { timeout: 30_000 },
    async () => {
      writeFileSync(file, line('alpha', TOKEN));
      const running = await startRunnable(env, runLogs);
      try {
        assert.equal(await onRunnable(TOKEN), 200);
        assert.equal(await onRunnable(OTHER_TOKEN), 401);
        // WatchedFiles.watch() does not wait for the watcher's start-up scan: a change in its first moments can go
        // unseen (until the next change), so this first change is written again until it is seen.
        let writes = 0;
        await waitFor(
          'the new client to be let in',
          async () => {
            if (writes++ % 20 === 0) writeFileSync(file, line('alpha', TOKEN) + line('beta', OTHER_TOKEN));
            return (await onRunnable(OTHER_TOKEN)) === 200;
          },
          10_000,
        );

        writeFileSync(file, `${line('alpha', TOKEN)}gamma ${TOKEN}-in-clear\n`);
        await waitFor('a warning about the broken tokens file', () => warned(runLogs, 'tokens file'), 10_000);
        assert.equal(await onRunnable(TOKEN), 200);
        assert.equal(await onRunnable(OTHER_TOKEN), 200, 'the broken change did not drop beta');

        const warnings = runLogs.filter((entry) => entry.includes('"warn"')).length;
        unlinkSync(file);
        await waitFor(
          'a warning about the deleted tokens file',
          () => runLogs.filter((entry) => entry.includes('"warn"')).length > warnings,
          10_000,
        );
        assert.equal(await onRunnable(TOKEN), 200);
        assert.equal(await onRunnable(OTHER_TOKEN), 200);

        writeFileSync(file, line('beta', OTHER_TOKEN));
        await waitFor('the file written again to take effect', async () => (await onRunnable(TOKEN)) === 401, 10_000);
        assert.equal(await onRunnable(OTHER_TOKEN), 200);

        const text = runLogs.join('') + (await running.metrics.registry.metrics());
        for (const secret of SECRETS) assert.ok(!text.includes(secret), `${secret} in the runnable's logs or metrics`);
      } finally {
        await running.stop();
      }
    },
  );
});

describe('the broker runnable: TLS', { concurrency: false }, () => {
  const dir = tempDir('broker-hostile-tls');
  const at = (name: string): string => path.join(dir, name);
  const openssl = (args: string): void => {
    execFileSync('openssl', args.split(' '), { cwd: dir, stdio: 'ignore' });
  };
  const runLogs: string[] = [];
  let running: Awaited<ReturnType<typeof startRunnable>> | undefined;
  let ca: Buffer;

  before(async () => {
    // A CA, and two server certificates it signed (serials 1001 and 1002) for 127.0.0.1.
    openssl('req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=torfleet-test-CA');
    writeFileSync(at('ext'), 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n');
    for (const serial of ['1001', '1002']) {
      openssl(`req -newkey rsa:2048 -nodes -keyout s${serial}.key -out s${serial}.csr -subj /CN=127.0.0.1`);
      openssl(
        `x509 -req -in s${serial}.csr -CA ca.pem -CAkey ca.key -set_serial 0x${serial} -days 2 -extfile ext -out s${serial}.pem`,
      );
    }
    ca = readFileSync(at('ca.pem'));
    writeFileSync(at('tokens'), line('alpha', TOKEN));
    writeFileSync(at('cert.pem'), readFileSync(at('s1001.pem')));
    writeFileSync(at('key.pem'), readFileSync(at('s1001.key')));
    running = await startRunnable(
      {
        TORFLEET_BROKER_TOKENS_FILE: at('tokens'),
        TORFLEET_BROKER_LISTEN: `127.0.0.1:${PORT_TLS}`,
        TORFLEET_BROKER_TLS_CERT: at('cert.pem'),
        TORFLEET_BROKER_TLS_KEY: at('key.pem'),
      },
      runLogs,
    );
  });
  after(async () => {
    await running?.stop();
  });

  /** A verified HTTPS lease on a new connection: the status and the server certificate's serial. */
  const secure = (): Promise<{ status: number; serial: string }> =>
    new Promise((resolve, reject) => {
      const body = JSON.stringify(LEASE);
      const sent = httpsRequest(
        {
          host: '127.0.0.1',
          port: PORT_TLS,
          method: 'POST',
          path: '/api/v1/proxy/request',
          ca,
          agent: false,
          headers: { authorization: `Bearer ${TOKEN}`, 'content-length': String(body.length) },
        },
        (response) => {
          const socket = response.socket;
          const serial = socket instanceof TLSSocket ? socket.getPeerCertificate().serialNumber : 'not TLS';
          response.resume();
          response.on('end', () => {
            resolve({ status: response.statusCode ?? 0, serial });
          });
        },
      );
      sent.on('error', reject);
      sent.end(body);
    });

  test('HTTPS verified with the CA works', async () => {
    assert.deepEqual(await secure(), { status: 200, serial: '1001' });
  });

  test('plain HTTP to the HTTPS port fails cleanly; HTTPS still served', async () => {
    await assert.rejects(call('POST', '/api/v1/proxy/request', { body: LEASE, port: PORT_TLS }));
    const answer = await raw('GET /api/v1/proxy/health HTTP/1.1\r\nHost: x\r\n\r\n', { port: PORT_TLS });
    assert.equal(answer.status, 0);
    assert.equal((await secure()).status, 200);
  });

  test('garbage after a ClientHello does not crash it', { timeout: 10_000 }, async () => {
    // A real ClientHello, caught by a peer that only records.
    let hello: Buffer | undefined;
    const peer = await ScriptedPeer.start((socket) => {
      socket.once('data', (chunk: Buffer) => {
        hello = chunk;
        socket.destroy();
      });
    });
    const { connect: tlsConnect } = await import('node:tls');
    await new Promise<void>((resolve) => {
      const client = tlsConnect({ host: '127.0.0.1', port: peer.port, servername: 'x', rejectUnauthorized: false });
      client.on('error', () => {
        resolve();
      });
      client.on('close', () => {
        resolve();
      });
    });
    await peer.close();
    if (hello === undefined) throw new Error('no ClientHello caught');
    const clientHello = hello;
    for (const tail of [randomBytes(4096), Buffer.from('GET / HTTP/1.1\r\n\r\n'), Buffer.alloc(70_000, 0x16)]) {
      const answer = await raw(Buffer.concat([clientHello, tail]), { port: PORT_TLS });
      assert.equal(answer.status, 0);
    }
    // Half a ClientHello, then silence is cut by the server's timeouts eventually; here the client leaves.
    const socket = connect(PORT_TLS, '127.0.0.1', () => socket.end(clientHello.subarray(0, 20)));
    socket.on('error', () => undefined);
    assert.equal((await secure()).status, 200);
  });

  test('silent sockets and a half ClientHello are dropped after the headers timeout', { timeout: 15_000 }, async () => {
    const tlsServer = createBrokerServer({
      service: main.service,
      tokens: () => mainTokens,
      metrics: main.metrics,
      rate: { perSecond: 100, burst: 100 },
      now: Date.now,
      log,
      tls: { cert: readFileSync(at('s1001.pem')), key: readFileSync(at('s1001.key')) },
      limits: LIMITS,
    });
    await new Promise<void>((resolve) => tlsServer.listen(PORT_TLS_SMALL, '127.0.0.1', resolve));
    try {
      const started = Date.now();
      await Promise.all([
        silentFor(PORT_TLS_SMALL),
        silentFor(PORT_TLS_SMALL),
        silentFor(PORT_TLS_SMALL, Buffer.from('160301020001000200030368656c6c6f', 'hex')),
      ]);
      const took = Date.now() - started;
      assert.ok(took < 5000, `silent TLS sockets held for ${String(took)} ms (headers timeout 500 ms)`);
    } finally {
      tlsServer.closeAllConnections();
      await new Promise<void>((resolve) =>
        tlsServer.close(() => {
          resolve();
        }),
      );
    }
  });

  test(
    'a new cert/key pair is used by new connections; a broken pair keeps the old one',
    { timeout: 20_000 },
    async () => {
      writeFileSync(at('key.pem'), readFileSync(at('s1002.key')));
      writeFileSync(at('cert.pem'), readFileSync(at('s1002.pem')));
      await waitFor('the new certificate on new connections', async () => (await secure()).serial === '1002', 10_000);

      const warnings = runLogs.filter((entry) => entry.includes('"warn"')).length;
      writeFileSync(at('cert.pem'), readFileSync(at('s1001.pem'))); // does not match key.pem (1002's)
      await waitFor(
        'a warning about the mismatched pair',
        () =>
          runLogs.filter((entry) => warned([entry], 'TLS')).length > 0 &&
          runLogs.filter((entry) => entry.includes('"warn"')).length > warnings,
        10_000,
      );
      assert.deepEqual(await secure(), { status: 200, serial: '1002' });

      writeFileSync(at('cert.pem'), 'not a certificate\n');
      await waitFor(
        'a warning about the garbage certificate',
        () => runLogs.filter((entry) => entry.includes('"warn"')).length > warnings + 1,
        10_000,
      );
      assert.deepEqual(await secure(), { status: 200, serial: '1002' });
      assert.ok(!runLogs.join('').includes('PRIVATE KEY'), 'key material in the logs');
    },
  );
});
