import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createFleetDialer } from '../gateway/fleet-dialer.js';
import type { RouteTable } from '../gateway/route-types.js';
import { silentLogger } from '../logger.js';
import { socksRouteTable, startTestOrigin } from '../testing/gateway-fixtures.js';
import { startNginx, type NginxOrigin } from '../testing/nginx-origin.js';
import { startRecordingRelay, type RecordingRelay } from '../testing/recording-relay.js';
import { startMicrosocks, type ProxyDaemon } from '../testing/proxy-daemons.js';
import { tempDir } from '../testing/temp-dir.js';
import { makeTestCertificates, type TestCertificates } from '../testing/test-certificates.js';
import { FetchError, fetchThroughRoute, type FetchRequest, type RouteFetchOptions } from './route-fetch.js';

// Ports 29200-29219: nginx (http, https), a silent origin.
const NGINX_PORT = 29200;
const STALL_PORT = 29202;

const table = (socksPort: number): RouteTable => socksRouteTable({ 'origin-socks': socksPort });

async function bodyOf(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('fetching through a gateway route (nginx behind a real SOCKS5 upstream, microsocks)', () => {
  const dir = tempDir('route-fetch');
  const blob = randomBytes(300_000);
  let nginx: NginxOrigin;
  let socks: ProxyDaemon;
  /** In front of microsocks: every connection the route's upstream got, and what it was asked. */
  let relay: RecordingRelay;
  let certificates: TestCertificates;
  let stall: Server;
  let options: RouteFetchOptions;
  const job = (url: string, over: Partial<FetchRequest> = {}): FetchRequest => ({
    url,
    method: 'GET',
    headers: {},
    body: null,
    route: 'origin-socks',
    session: 'job_1',
    ...over,
  });
  const fetchFails = async (
    request: FetchRequest,
    pattern: RegExp,
    transient: boolean,
    over: Partial<RouteFetchOptions> = {},
  ) => {
    await assert.rejects(fetchThroughRoute({ ...options, ...over }, request, new AbortController().signal), (error) => {
      assert.ok(error instanceof FetchError, String(error));
      assert.match(error.message, pattern);
      assert.equal(error.transient, transient, error.message);
      return true;
    });
  };

  before(async () => {
    certificates = makeTestCertificates(dir);
    nginx = await startNginx(dir, NGINX_PORT, certificates);
    writeFileSync(path.join(nginx.www, 'blob.bin'), blob);
    writeFileSync(path.join(nginx.www, 'hello.txt'), 'hello\n');
    writeFileSync(path.join(nginx.www, 'setup.exe'), 'MZ');
    socks = await startMicrosocks();
    // An origin that answers its headers, then one byte, then nothing.
    stall = createServer((socket) => {
      socket.on('error', () => undefined);
      socket.once('data', () =>
        socket.write('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 100\r\n\r\nx'),
      );
    });
    await new Promise<void>((resolve) => stall.listen(STALL_PORT, '127.0.0.1', resolve));
    relay = await startRecordingRelay(socks.port);
    const routes = table(relay.peer.port);
    options = {
      dialer: createFleetDialer({
        health: { usable: () => true },
        now: Date.now,
        random: Math.random,
        connectTimeoutMs: 2000,
        maxAttempts: 1,
        log: silentLogger,
      }),
      routes: () => routes,
      connectTimeoutMs: 3000,
      readTimeoutMs: 500,
      maxRedirects: 2,
      mimeAllowlist: ['application/octet-stream', 'text/*'],
      maxBytes: 1_000_000,
      ca: [certificates.ca],
    };
  });
  after(async () => {
    await relay.peer.close();
    await socks.stop();
    await nginx.stop();
    await new Promise((resolve) => stall.close(resolve));
  });

  test('http and https (certificate verified against the CA): the bytes arrive as nginx has them, through the upstream', async () => {
    for (const [port, url] of [
      [NGINX_PORT, `http://127.0.0.1:${NGINX_PORT}/blob.bin`],
      [NGINX_PORT + 1, `https://127.0.0.1:${NGINX_PORT + 1}/blob.bin`],
    ] as const) {
      const before = relay.sent.length;
      const fetched = await fetchThroughRoute(options, job(url), new AbortController().signal);
      assert.equal(fetched.member, 'origin-socks');
      assert.equal(fetched.contentType, 'application/octet-stream');
      assert.equal(fetched.declaredSize, blob.length);
      assert.deepEqual(await bodyOf(fetched.body), blob, url);
      assert.equal(relay.sent.length, before + 1, 'one connection, to the SOCKS upstream');
      // The SOCKS5 CONNECT the upstream was sent names the origin's port (its last two bytes).
      const portBytes = String.fromCharCode(port >> 8, port & 0xff);
      assert.ok(relay.sent.at(-1)?.includes(`\x7f\x00\x00\x01${portBytes}`), 'CONNECT 127.0.0.1:port');
    }
  });

  test('TLS verification is on: a certificate no trusted CA signed fails the fetch, for good', async () => {
    await fetchFails(job(`https://127.0.0.1:${NGINX_PORT + 1}/blob.bin`), /TLS with 127\.0\.0\.1 failed/, false, {
      ca: [],
    });
  });

  test('redirects are followed through the same route, a few times only, to http(s) only', async () => {
    const followed = await fetchThroughRoute(
      options,
      job(`http://127.0.0.1:${NGINX_PORT}/r1`),
      new AbortController().signal,
    );
    assert.equal(followed.url, `http://127.0.0.1:${NGINX_PORT}/hello.txt`);
    assert.equal((await bodyOf(followed.body)).toString(), 'hello\n');
    await fetchFails(job(`http://127.0.0.1:${NGINX_PORT}/r3`), /more than 2 redirects/, false);
    await fetchFails(job(`http://127.0.0.1:${NGINX_PORT}/away`), /ftp: URL: only http and https/, false);
    const post = await fetchThroughRoute(
      options,
      job(`http://127.0.0.1:${NGINX_PORT}/post`, { method: 'POST', body: '{"q":1}' }),
      new AbortController().signal,
    );
    assert.equal((await bodyOf(post.body)).toString(), 'hello\n', 'a 303 after a POST is fetched with GET');
  });

  test('statuses: 404 fails for good, 503 may pass (transient); a disallowed type and a declared size over the limit fail at once', async () => {
    await fetchFails(job(`http://127.0.0.1:${NGINX_PORT}/gone`), /answered 404/, false);
    await fetchFails(job(`http://127.0.0.1:${NGINX_PORT}/busy`), /answered 503/, true);
    await fetchFails(
      job(`http://127.0.0.1:${NGINX_PORT}/setup.exe`),
      /application\/x-msdownload" is not allowed/,
      false,
    );
    await fetchFails(job(`http://127.0.0.1:${NGINX_PORT}/blob.bin`), /300000 bytes, over the limit of 1000/, false, {
      maxBytes: 1000,
    });
  });

  test('a route the fleet does not have fails for good, naming the routes; a route that is down fails (transient), never direct', async () => {
    await fetchFails(
      job(`http://127.0.0.1:${NGINX_PORT}/hello.txt`, { route: 'nowhere' }),
      /"nowhere" is not a gateway route \(routes: origin-socks/,
      false,
    );
    const down = table(socks.port + 1000);
    await fetchFails(job(`http://127.0.0.1:${NGINX_PORT}/hello.txt`), /could not reach the origin/, true, {
      routes: () => down,
    });
  });

  test('an origin that goes silent mid-body: the read timeout ends the body with a transient error', async () => {
    const fetched = await fetchThroughRoute(
      options,
      job(`http://127.0.0.1:${STALL_PORT}/x`),
      new AbortController().signal,
    );
    await assert.rejects(
      bodyOf(fetched.body),
      (error) => error instanceof FetchError && /no data for 500 ms/.test(error.message) && error.transient,
    );
  });

  test("the request's method, headers and body reach the origin as given", async () => {
    const origin = await startTestOrigin();
    try {
      const fetched = await fetchThroughRoute(
        options,
        job(`http://127.0.0.1:${String(origin.port)}/api?q=1`, {
          method: 'POST',
          headers: { 'X-Api-Key': 'k-123', Accept: 'text/plain' },
          body: '{"query":"x"}',
        }),
        new AbortController().signal,
      );
      assert.equal((await bodyOf(fetched.body)).toString(), 'POST /api?q=1 13');
      const seen = origin.seen[0];
      assert.equal(seen?.headers['x-api-key'], 'k-123');
      assert.equal(seen.headers.accept, 'text/plain');
      assert.equal(seen.headers.host, `127.0.0.1:${String(origin.port)}`);
    } finally {
      await origin.close();
    }
  });

  test('an abort before the answer stops the fetch', async () => {
    const controller = new AbortController();
    const pending = fetchThroughRoute(options, job(`http://127.0.0.1:${STALL_PORT}/never`), controller.signal);
    controller.abort(new FetchError('the job was cancelled', false));
    await assert.rejects(pending, /cancelled/);
  });
});
