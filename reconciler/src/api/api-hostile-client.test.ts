import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createLogger } from '../logger.js';
import type { ControllerStatus } from '../reconcile/status.js';
import { schemaErrors } from '../testing/api-schemas.js';
import { waitFor } from '../wait-for.js';
import { createApiServer, ROUTE_TEMPLATES } from './api-server.js';
import type { ApiSource } from './api-source.js';

/**
 * The API against clients that break the rules: raw bytes over `node:net`, so nothing in between
 * (fetch, undici) repairs or refuses a request before the server sees it.
 */
const PORT = 31000; // this file's port block: 31000-31009
const status: ControllerStatus = {
  lastAppliedRevision: 'abc',
  lastAttemptedRevision: 'abc',
  conditions: [],
  passes: [],
  inventory: [],
};
const source: ApiSource = {
  status: () => status,
  lastPlan: () => null,
  fleetPools: () => [],
  observed: () => Promise.resolve([]),
  nodeStats: () => ({ exits: { US: 0, NON_US: 0 }, relays: 0, relaysPublished: null, refreshedAt: null, stale: true }),
  egress: () => null,
  quarantinedExits: () => 0,
};
const logs: { level: string; msg: string }[] = [];
const log = createLogger((line) => logs.push(JSON.parse(line) as { level: string; msg: string }), 'debug');
const api = createApiServer({
  source,
  log,
  limits: { headersTimeoutMs: 300, requestTimeoutMs: 600, checkIntervalMs: 50 },
});

interface RawAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: unknown;
}

/** Sends `bytes` on a fresh connection and reads until the server closes it. */
function raw(bytes: string | Buffer, options: { then?: (socket: Socket) => void } = {}): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(PORT, '127.0.0.1', () => {
      socket.write(bytes);
      options.then?.(socket);
    });
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined); // the server may close while the client still writes
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const [head = '', ...rest] = text.split('\r\n\r\n');
      const [statusLine = '', ...headerLines] = head.split('\r\n');
      const code = Number(/^HTTP\/1\.[01] (\d{3}) /.exec(statusLine)?.[1]);
      if (!Number.isInteger(code)) {
        reject(new Error(`no HTTP answer, got ${JSON.stringify(text.slice(0, 200))}`));
        return;
      }
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
      resolve({ status: code, headers, body });
    });
  });
}

const get = (target: string, headers = 'Host: 127.0.0.1\r\n'): Promise<RawAnswer> =>
  raw(`GET ${target} HTTP/1.1\r\n${headers}Connection: close\r\n\r\n`);

/** Every answer counted in http_requests_total, as {labels: count}. */
async function requestCounts(): Promise<Map<string, number>> {
  const metric = (await api.metrics.registry.getMetricsAsJSON()).find((m) => m.name === 'http_requests_total');
  const counts = new Map<string, number>();
  for (const value of metric?.values ?? []) {
    const { method, route, status: code } = value.labels;
    counts.set(`${String(method)} ${String(route)} ${String(code)}`, value.value);
  }
  return counts;
}

function connections(): Promise<number> {
  return new Promise((resolve, reject) => {
    api.server.getConnections((failure, count) => {
      if (failure) reject(failure);
      else resolve(count);
    });
  });
}

async function totalAnswers(): Promise<number> {
  return [...(await requestCounts()).values()].reduce((a, b) => a + b, 0);
}

const ALLOWED_ROUTES = new Set([...ROUTE_TEMPLATES, 'unmatched', 'invalid']);

describe('the API against hostile clients', { concurrency: false }, () => {
  before(() => new Promise<void>((resolve) => api.server.listen(PORT, '127.0.0.1', resolve)));
  after(() => {
    api.server.closeAllConnections();
    return new Promise<void>((resolve) =>
      api.server.close(() => {
        resolve();
      }),
    );
  });

  const CASES: readonly [string, string | Buffer, number, string][] = [
    ['a lone %', 'GET /proxies/% HTTP/1.1\r\nHost: x\r\n', 400, 'bad_request'],
    ['%ZZ', 'GET /proxies/%ZZ HTTP/1.1\r\nHost: x\r\n', 400, 'bad_request'],
    ['truncated UTF-8', 'GET /proxies/%E0%A4%A HTTP/1.1\r\nHost: x\r\n', 400, 'bad_request'],
    ['overlong UTF-8 dots', 'GET /proxies/%c0%ae%c0%ae%c0%afetc HTTP/1.1\r\nHost: x\r\n', 400, 'bad_request'],
    ['a target without /', 'GET %c0%ae%c0%ae%c0%afetc HTTP/1.1\r\nHost: x\r\n', 400, 'bad_request'],
    ['absolute-form, bad host', 'GET http://[/proxies HTTP/1.1\r\nHost: x\r\n', 400, 'bad_request'],
    ['absolute-form, bad port', 'GET http://x:99999/proxies HTTP/1.1\r\nHost: x\r\n', 400, 'bad_request'],
    ['absolute-form, other scheme', 'GET ftp://x/proxies HTTP/1.1\r\nHost: x\r\n', 400, 'bad_request'],
    ['asterisk-form', 'GET * HTTP/1.1\r\nHost: x\r\n', 400, 'bad_request'],
    ['OPTIONS *', 'OPTIONS * HTTP/1.1\r\nHost: x\r\n', 400, 'bad_request'],
    ['authority-form', 'GET 127.0.0.1:80 HTTP/1.1\r\nHost: x\r\n', 400, 'bad_request'],
    ['//host/path stays a path', 'GET //x/status HTTP/1.1\r\nHost: x\r\n', 404, 'not_found'],
    ['CONNECT', 'CONNECT 127.0.0.1:9050 HTTP/1.1\r\nHost: 127.0.0.1:9050\r\n', 405, 'method_not_allowed'],
    ['an invalid method', 'FOO /proxies HTTP/1.1\r\nHost: x\r\n', 400, 'bad_request'],
    ['a method on no route', 'PROPFIND /status HTTP/1.1\r\nHost: x\r\n', 405, 'method_not_allowed'],
    ['HTTP/1.1 without Host', 'GET /status HTTP/1.1\r\n', 400, 'bad_request'],
    ['HTTP/3.0', 'GET /status HTTP/3.0\r\nHost: x\r\n', 400, 'bad_request'],
    ['an HTTP/2 preface', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 400, 'bad_request'],
    ['a 100 KB request line', `GET /${'a'.repeat(100_000)} HTTP/1.1\r\nHost: x\r\n`, 431, 'headers_too_large'],
    [
      'a header flood',
      `GET /status HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 3000 }, (_, i) => `X-H${i}: v`).join('\r\n')}\r\n`,
      431,
      'headers_too_large',
    ],
    ['a bad header name', 'GET /status HTTP/1.1\r\nHost: x\r\nBad Header: v\r\n', 400, 'bad_request'],
    [
      'two Content-Lengths',
      'GET /status HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n',
      400,
      'bad_request',
    ],
    ['a body on GET', 'GET /status HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello', 413, 'body_not_accepted'],
    [
      'a chunked body on GET',
      'GET /proxies HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n',
      413,
      'body_not_accepted',
    ],
    ['a body on POST /proxies', 'POST /proxies HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}', 405, 'read_only'],
    ['an unknown Expect', 'GET /status HTTP/1.1\r\nHost: x\r\nExpect: teapot\r\n', 417, 'expectation_failed'],
  ];
  for (const [name, head, code, errorCode] of CASES) {
    test(`${name}: ${code} with a JSON error, counted`, { timeout: 5000 }, async () => {
      const before = await totalAnswers();
      const request =
        typeof head === 'string' && !head.includes('\r\n\r\n') ? `${head}Connection: close\r\n\r\n` : head;
      const answer = await raw(request);
      assert.equal(answer.status, code, JSON.stringify(answer.body));
      assert.match(answer.headers['content-type'] ?? '', /^application\/json/);
      assert.deepEqual(schemaErrors('error', answer.body), []);
      assert.equal((answer.body as { error: { code: string } }).error.code, errorCode);
      if (code === 405) assert.equal(answer.headers.allow, 'GET, HEAD');
      assert.equal(await totalAnswers(), before + 1, 'the answer is counted once');
    });
  }

  test('a well-formed absolute-form request is served', async () => {
    assert.equal((await get('http://127.0.0.1/status')).status, 200);
    assert.equal((await get('http://127.0.0.1:8080/proxies?pool=x')).status, 200);
  });

  test(
    'a client that never finishes its headers gets a 408 and loses the socket (slowloris)',
    { timeout: 10_000 },
    async () => {
      const answer = await raw('GET /status HTTP/1.1\r\nHost: x\r\nX-Slow: ', {
        then: (socket) => {
          const drip = setInterval(() => socket.write('a'), 20);
          socket.on('close', () => {
            clearInterval(drip);
          });
        },
      });
      assert.equal(answer.status, 408);
      assert.equal((answer.body as { error: { code: string } }).error.code, 'request_timeout');
    },
  );

  test('many idle sockets do not stop the API answering, and the server drops each', { timeout: 10_000 }, async () => {
    // They never send a byte, and never read either: only the server's own timeouts can free them.
    const idle = Array.from({ length: 200 }, () => connect(PORT, '127.0.0.1'));
    for (const socket of idle) socket.on('error', () => undefined);
    await Promise.all(idle.map((socket) => new Promise((resolve) => socket.once('connect', resolve))));
    assert.equal((await get('/healthz')).status, 200);
    await waitFor('the server to drop every idle socket', async () => (await connections()) === 0);
    for (const socket of idle) socket.destroy();
  });

  test('clients that reset mid-response do not crash the server', async () => {
    for (let i = 0; i < 50; i++) {
      await new Promise<void>((resolve) => {
        const socket = connect(PORT, '127.0.0.1', () => {
          socket.write('GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n');
          socket.once('data', () => socket.resetAndDestroy());
          if (i % 2 === 0) socket.resetAndDestroy();
        });
        socket.on('error', () => undefined);
        socket.on('close', () => {
          resolve();
        });
      });
    }
    assert.equal((await get('/healthz')).status, 200);
  });

  test('after 1,000 distinct random paths, route labels are a small fixed set', async () => {
    for (let i = 0; i < 1000; i++) {
      const word = randomBytes(6).toString('hex');
      const target = [`/${word}`, `/proxies/${word}`, `/proxies/${word}/x`, `/proxies/%${word}`, `/${word}?q=1`][i % 5];
      await get(target ?? '/');
    }
    const counts = await requestCounts();
    const routes = new Set([...counts.keys()].map((key) => key.split(' ')[1] ?? ''));
    assert.deepEqual(
      [...routes].filter((route) => !ALLOWED_ROUTES.has(route)),
      [],
    );
    assert.ok(routes.size <= ALLOWED_ROUTES.size);
    const methods = new Set([...counts.keys()].map((key) => key.split(' ')[0] ?? ''));
    assert.ok(methods.size <= 12, [...methods].join(', '));
    assert.ok((counts.get('GET unmatched 404') ?? 0) >= 600, 'every unmatched path is counted under one label');
  });

  test("no client's mistake was logged as an error", () => {
    assert.deepEqual(
      logs.filter((line) => line.level === 'error'),
      [],
    );
  });
});
