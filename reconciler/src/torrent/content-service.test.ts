import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseClientTokens } from '../broker/client-tokens.js';
import { silentLogger } from '../logger.js';
import { openNodeDatabase } from '../nodes/node-db-file.js';
import { listenOn } from '../service/serve-http.js';
import { ARIA2C_REQUIRE_CRYPTO, runAria2c } from '../testing/aria2c.js';
import { contentCall, type ContentAnswer } from '../testing/content-client.js';
import { socksRouteTable } from '../testing/gateway-fixtures.js';
import { startNginx, type NginxOrigin } from '../testing/nginx-origin.js';
import { startMicrosocks, type ProxyDaemon } from '../testing/proxy-daemons.js';
import { tempDir } from '../testing/temp-dir.js';
import { tokenDigest } from '../token-digest.js';
import { ContentServiceParts, type ContentService } from './content-service.js';
import { parseJobRequest } from './job-request.js';
import { readTorrentSettings } from './torrent-settings.js';
import { parseTorrentInfo } from './torrent-file.js';

// Ports 29220-29259: nginx, a streaming origin, the service's API and seeder, aria2c's listen ports.
const NGINX_PORT = 29220;
const STREAM_PORT = 29222;
const API_PORT = 29224;
const PEER_PORT = 29225;
const ARIA_PORT = 29230;
const SECRET = Buffer.from('content-service-test-secret-0123');
const TOKEN = 'content-test-token-alpha';
const MiB = 1024 * 1024;

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

describe(
  'the content jobs service (nginx behind microsocks as the route, aria2c as the downloader)',
  { concurrency: false },
  () => {
    const dir = tempDir('content-service');
    const data = path.join(dir, 'data');
    const contentRoot = path.join(data, 'content');
    const dbFile = path.join(data, 'torfleet.db');
    const base = `http://127.0.0.1:${API_PORT}`;
    const files = { one: randomBytes(MiB), six: randomBytes(6 * MiB), small: randomBytes(100 * 1024) };
    let nginx: NginxOrigin;
    let socks: ProxyDaemon;
    let stream: Server;
    let parts: ContentServiceParts;
    let service: ContentService;
    /** The streaming origin's /slow responses still open. */
    let slowOpen = 0;
    let aria = ARIA_PORT;
    /** The service's clock runs this far ahead (the expiry test moves it; within the signatures' 300 s). */
    let skew = 0;

    const settings = readTorrentSettings(
      (name) =>
        ({
          TORFLEET_TORRENT_SECRET: SECRET.toString(),
          TORFLEET_TORRENT_LISTEN: `127.0.0.1:${API_PORT}`,
          TORFLEET_TORRENT_PEER_PORT: String(PEER_PORT),
          TORFLEET_TORRENT_MAX_SIZE: '10MiB',
          TORFLEET_TORRENT_RETRIES: '1',
          TORFLEET_TORRENT_CONNECT_TIMEOUT: '3s',
          TORFLEET_TORRENT_READ_TIMEOUT: '5s',
        })[name],
    );
    assert.ok(settings);

    const start = async (): Promise<void> => {
      parts = new ContentServiceParts(openNodeDatabase(dbFile, () => new Date(), silentLogger).db);
      const routes = socksRouteTable({ socks: socks.port, dead: 9 });
      const tokens = parseClientTokens('tokens', `alpha ${tokenDigest(TOKEN).toString('hex')}\n`);
      assert.ok(tokens.ok);
      service = await parts.start({
        settings,
        contentRoot,
        routes: () => routes,
        health: { usable: () => true },
        tokens: () => tokens.tokens,
        now: () => Date.now() + skew,
        random: Math.random,
        log: silentLogger,
        backoffMs: 50,
      });
      await listenOn(service.server, settings.listen, 'TORFLEET_TORRENT_LISTEN');
    };
    const stop = async (): Promise<void> => {
      service.server.closeAllConnections();
      await new Promise((resolve) => service.server.close(resolve));
      await service.stop();
      parts.close();
    };

    const call = (method: string, route: string, body?: unknown): Promise<ContentAnswer> =>
      contentCall(base, { secret: SECRET }, method, route, body);
    const submit = async (url: string, over: Record<string, unknown> = {}): Promise<string> => {
      const answer = await call('POST', '/v1/requests', { url, route: 'socks', ...over });
      assert.equal(answer.status, 202, JSON.stringify(answer.body));
      const { id, status } = answer.body as { id: string; status: string };
      assert.equal(status, 'QUEUED');
      return id;
    };
    const until = async (id: string, statuses: readonly string[], ms = 20_000): Promise<Record<string, unknown>> => {
      const deadline = Date.now() + ms;
      for (;;) {
        const job = (await call('GET', `/v1/requests/${id}`)).body as Record<string, unknown>;
        if (statuses.includes(String(job.status))) return job;
        if (Date.now() > deadline)
          assert.fail(`job ${id} is ${String(job.status)}, not ${statuses.join('/')}: ${JSON.stringify(job)}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    /** aria2c downloads the job's torrent (fetched from the API) and the file it wrote is `expected`. */
    const downloads = async (id: string, expected: Buffer, requireCrypto = false): Promise<void> => {
      const torrent = await call('GET', `/v1/requests/${id}/torrent`);
      assert.equal(torrent.status, 200);
      assert.equal(torrent.headers.get('content-type'), 'application/x-bittorrent');
      const info = parseTorrentInfo(torrent.bytes);
      assert.equal(info.private, true);
      assert.equal(info.announce, `${base}/announce`);
      const into = tempDir('content-aria2');
      const file = path.join(into, 'job.torrent');
      writeFileSync(file, torrent.bytes);
      aria += 2;
      const result = await runAria2c({
        torrentFile: file,
        dir: into,
        listenPort: aria,
        dhtPort: aria + 1,
        extraArgs: requireCrypto ? ARIA2C_REQUIRE_CRYPTO : [],
      });
      assert.equal(result.code, 0, result.output);
      assert.equal(sha256(readFileSync(path.join(into, info.name))), sha256(expected), 'aria2c has the bytes');
    };
    const partials = (): number[] => {
      const tmp = path.join(contentRoot, 'tmp');
      return existsSync(tmp) ? readdirSync(tmp).map((name) => statSync(path.join(tmp, name)).size) : [];
    };

    before(async () => {
      nginx = await startNginx(dir, NGINX_PORT);
      writeFileSync(path.join(nginx.www, 'one.bin'), files.one);
      writeFileSync(path.join(nginx.www, 'six.bin'), files.six);
      writeFileSync(path.join(nginx.www, 'small.bin'), files.small);
      writeFileSync(path.join(nginx.www, 'setup.exe'), 'MZ');
      socks = await startMicrosocks();
      // Bodies with no Content-Length: /forty 40 MiB in 1 MiB chunks, /slow a chunk every 100 ms until closed.
      stream = createServer((request, response) => {
        response.writeHead(200, { 'content-type': 'application/octet-stream' });
        if (request.url === '/forty') {
          let sent = 0;
          const more = (): void => {
            while (sent < 40 && response.write(randomBytes(MiB))) sent += 1;
            if (sent >= 40) response.end();
          };
          response.on('drain', () => {
            sent += 1;
            more();
          });
          response.on('error', () => undefined);
          more();
          return;
        }
        slowOpen += 1;
        const timer = setInterval(() => response.write(randomBytes(16 * 1024)), 100);
        response.on('close', () => {
          clearInterval(timer);
          slowOpen -= 1;
        });
      });
      await new Promise<void>((resolve) => stream.listen(STREAM_PORT, '127.0.0.1', resolve));
      await start();
    });
    after(async () => {
      await stop();
      stream.closeAllConnections();
      await new Promise((resolve) => stream.close(resolve));
      await socks.stop();
      await nginx.stop();
    });

    test('a signed job goes QUEUED → … → READY; its torrent, magnet and status; aria2c downloads the same bytes', async () => {
      const id = await submit(`http://127.0.0.1:${NGINX_PORT}/six.bin`);
      const job = await until(id, ['READY', 'FAILED']);
      assert.equal(job.status, 'READY', String(job.error_message));
      assert.equal(job.content_hash, sha256(files.six));
      assert.equal(job.content_size, files.six.length);
      assert.equal(job.progress, files.six.length);
      assert.equal(job.content_type, 'application/octet-stream');
      assert.match(String(job.infohash), /^[0-9a-f]{40}$/);
      assert.ok(job.completed_at !== null && job.created_at !== null);
      const magnet = (await call('GET', `/v1/requests/${id}/magnet`)).body as { magnet: string };
      assert.match(magnet.magnet, new RegExp(`^magnet:\\?xt=urn:btih:${String(job.infohash)}`));
      assert.ok(magnet.magnet.includes(encodeURIComponent(`${base}/announce`)), magnet.magnet);
      const hash = sha256(files.six);
      assert.ok(
        existsSync(path.join(contentRoot, hash.slice(0, 2), hash.slice(2, 4), hash)),
        'stored at ab/cd/<sha256>',
      );
      await downloads(id, files.six);
    });

    test('two jobs for the same URL share one stored copy and one torrent', async () => {
      // Two requests that differ (an identical signed request twice is a replay: refused).
      const [a, b] = await Promise.all(
        [3600, 3601].map((ttl) => submit(`http://127.0.0.1:${NGINX_PORT}/one.bin`, { ttl })),
      );
      const jobs = await Promise.all([a, b].map((id) => until(String(id), ['READY', 'FAILED'])));
      assert.deepEqual(
        jobs.map((job) => job.status),
        ['READY', 'READY'],
      );
      assert.equal(jobs[0]?.content_hash, jobs[1]?.content_hash);
      assert.equal(jobs[0]?.infohash, jobs[1]?.infohash);
      const hash = String(jobs[0]?.content_hash);
      const stored = readdirSync(path.join(contentRoot, hash.slice(0, 2), hash.slice(2, 4)));
      assert.deepEqual(stored.sort(), [hash, `${hash}.torrent`]);
      await downloads(String(a), files.one, true);
    });

    test('a 40 MiB body with no declared size fails at the 10 MiB limit while streaming: the file never exceeds it', async () => {
      const id = await submit(`http://127.0.0.1:${STREAM_PORT}/forty`);
      let largest = 0;
      for (;;) {
        largest = Math.max(largest, ...partials());
        const job = (await call('GET', `/v1/requests/${id}`)).body as Record<string, unknown>;
        if (job.status === 'FAILED') {
          assert.match(String(job.error_message), /larger than the limit of 10485760 bytes/);
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      assert.ok(largest <= 10 * MiB, `the partial file reached ${largest} bytes`);
      assert.deepEqual(partials(), [], 'the partial file is removed');
    });

    test('a disallowed content type fails; a route that is down fails after its retry; an unknown route fails at once', async () => {
      const exe = await until(await submit(`http://127.0.0.1:${NGINX_PORT}/setup.exe`), ['FAILED', 'READY']);
      assert.match(String(exe.error_message), /application\/x-msdownload" is not allowed/);
      const down = await until(await submit(`http://127.0.0.1:${NGINX_PORT}/one.bin`, { route: 'dead' }), [
        'FAILED',
        'READY',
      ]);
      assert.match(String(down.error_message), /could not reach the origin/);
      assert.equal(down.attempts, 2, 'one retry (TORFLEET_TORRENT_RETRIES=1), then failed');
      const unknown = await until(await submit(`http://127.0.0.1:${NGINX_PORT}/one.bin`, { route: 'nowhere' }), [
        'FAILED',
        'READY',
      ]);
      assert.match(String(unknown.error_message), /"nowhere" is not a gateway route/);
    });

    test('DELETE mid-fetch cancels it: the origin connection is closed and no partial file is left', async () => {
      const id = await submit(`http://127.0.0.1:${STREAM_PORT}/slow`);
      const fetching = await until(id, ['FETCHING']);
      assert.equal(fetching.status, 'FETCHING');
      await until(id, ['FETCHING']);
      const deleted = await call('DELETE', `/v1/requests/${id}`);
      assert.equal(deleted.status, 200);
      assert.equal((deleted.body as { status: string }).status, 'CANCELLED');
      const deadline = Date.now() + 5000;
      while ((slowOpen > 0 || partials().length > 0) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      assert.equal(slowOpen, 0, 'the origin saw the fetch end');
      assert.deepEqual(partials(), []);
      assert.equal(
        (
          (
            await contentCall(base, { secret: SECRET }, 'DELETE', `/v1/requests/${id}`, undefined, {
              timestamp: Math.floor(Date.now() / 1000) + 1,
            })
          ).body as { status: string }
        ).status,
        'CANCELLED',
        'again: as it is',
      );
    });

    test('a restart keeps seeding READY jobs: aria2c downloads again from the new run', async () => {
      const id = await submit(`http://127.0.0.1:${NGINX_PORT}/small.bin`);
      const ready = await until(id, ['READY', 'FAILED']);
      assert.equal(ready.status, 'READY');
      await stop();
      await start();
      const again = (await call('GET', `/v1/requests/${id}`)).body as Record<string, unknown>;
      assert.equal(again.status, 'READY');
      assert.equal(again.infohash, ready.infohash);
      await downloads(id, files.small);
    });

    test('a READY job whose content went away meanwhile FAILS at the next start; the service starts all the same', async () => {
      const unique = randomBytes(40_000);
      writeFileSync(path.join(nginx.www, 'vanish.bin'), unique);
      const id = await submit(`http://127.0.0.1:${NGINX_PORT}/vanish.bin`);
      assert.equal((await until(id, ['READY', 'FAILED'])).status, 'READY');
      await stop();
      const hash = sha256(unique);
      rmSync(path.join(contentRoot, hash.slice(0, 2), hash.slice(2, 4), hash));
      await start();
      const job = (await call('GET', `/v1/requests/${id}`)).body as Record<string, unknown>;
      assert.equal(job.status, 'FAILED');
      assert.match(String(job.error_message), /seeding after a restart failed/);
      assert.doesNotMatch(String(job.error_message), /\//, 'no path of the host');
      assert.equal((await fetch(`${base}/v1/health`)).status, 200);
    });

    test('auth: a wrong signature, an old timestamp, a changed body and a replayed POST are 401; a bearer client sees only its jobs', async () => {
      const body = { url: `http://127.0.0.1:${NGINX_PORT}/one.bin`, route: 'socks' };
      const refused = [
        await contentCall(
          base,
          { secret: Buffer.from('another-secret-of-sixteen-bytes') },
          'POST',
          '/v1/requests',
          body,
        ),
        await contentCall(base, { secret: SECRET }, 'POST', '/v1/requests', body, {
          timestamp: Math.floor(Date.now() / 1000) - 301,
        }),
        await contentCall(base, { secret: SECRET }, 'POST', '/v1/requests', body, {
          sentBody: JSON.stringify({ ...body, route: 'dead' }),
        }),
        await contentCall(base, null, 'POST', '/v1/requests', body),
        await contentCall(base, { token: 'not-a-token' }, 'POST', '/v1/requests', body),
      ];
      assert.deepEqual(
        refused.map((answer) => answer.status),
        [401, 401, 401, 401, 401],
      );
      assert.deepEqual(
        refused.map((answer) => (answer.body as { error: { field: string } }).error.field),
        ['X-Signature', 'X-Timestamp', 'X-Signature', 'X-Signature', 'Authorization'],
      );
      const timestamp = Math.floor(Date.now() / 1000);
      const first = await contentCall(base, { secret: SECRET }, 'POST', '/v1/requests', body, { timestamp });
      const replay = await contentCall(base, { secret: SECRET }, 'POST', '/v1/requests', body, { timestamp });
      assert.deepEqual([first.status, replay.status], [202, 401]);
      const mine = await contentCall(base, { token: TOKEN }, 'POST', '/v1/requests', body);
      assert.equal(mine.status, 202);
      const id = (mine.body as { id: string }).id;
      assert.equal((await contentCall(base, { token: TOKEN }, 'GET', `/v1/requests/${id}`)).status, 200);
      assert.equal((await call('GET', `/v1/requests/${id}`)).status, 404, 'another client (hmac) does not see it');
      assert.equal(
        (await contentCall(base, { token: TOKEN }, 'GET', `/v1/requests/${(first.body as { id: string }).id}`)).status,
        404,
      );
    });

    test('bad input: every refusal is a 4xx JSON error naming what is wrong', async () => {
      const cases: [string, string, unknown, number, string | null][] = [
        ['POST', '/v1/requests', '{"url":', 400, null],
        ['POST', '/v1/requests', { url: 'ftp://127.0.0.1/f', route: 'socks' }, 400, 'url'],
        ['POST', '/v1/requests', { url: `http://127.0.0.1:${NGINX_PORT}/`, route: 'socks', extra: 1 }, 400, 'extra'],
        ['POST', '/v1/requests', { url: `http://127.0.0.1:${NGINX_PORT}/` }, 400, 'route'],
        ['POST', '/v1/requests', 'x'.repeat(300 * 1024), 413, null],
        ['GET', '/v1/requests', undefined, 405, null],
        ['GET', '/v1/requests/job_nope', undefined, 404, 'id'],
        ['GET', '/v2/anything', undefined, 404, null],
      ];
      for (const [method, route, body, status, field] of cases) {
        const answer = await call(method, route, body);
        assert.equal(answer.status, status, `${method} ${route}: ${JSON.stringify(answer.body)}`);
        const error = (answer.body as { error: { field: string | null; message: string } }).error;
        assert.equal(error.field, field, `${method} ${route}: ${error.message}`);
        assert.ok(error.message.length > 10, `${method} ${route}: ${error.message}`);
      }
      const health = await fetch(`${base}/v1/health`);
      assert.equal(health.status, 200, 'health needs no signature');
      assert.equal(((await health.json()) as { status: string }).status, 'ok');
    });

    test('an expired job is cancelled and its content freed when no other job holds it', async () => {
      const unique = randomBytes(50_000);
      writeFileSync(path.join(nginx.www, 'ttl.bin'), unique);
      const id = await submit(`http://127.0.0.1:${NGINX_PORT}/ttl.bin`, { ttl: 60 });
      const ready = await until(id, ['READY', 'FAILED']);
      assert.equal(ready.status, 'READY');
      const hash = sha256(unique);
      const stored = path.join(contentRoot, hash.slice(0, 2), hash.slice(2, 4), hash);
      assert.ok(existsSync(stored));
      skew = 61_000;
      assert.equal(await service.expire(), 1);
      const expired = (await call('GET', `/v1/requests/${id}`)).body as Record<string, unknown>;
      assert.equal(expired.status, 'CANCELLED');
      assert.ok(!existsSync(stored) && !existsSync(`${stored}.torrent`), 'content and torrent freed');
      assert.equal((await call('GET', `/v1/requests/${id}/torrent`)).status, 409);
    });

    test('a client with TORFLEET_TORRENT_MAX_QUEUED jobs unfinished gets a 429 naming it; other clients do not', async () => {
      const parsed = parseJobRequest({ url: `http://127.0.0.1:${NGINX_PORT}/one.bin`, route: 'dead' });
      assert.ok(parsed.ok);
      const ids = Array.from({ length: 1000 }, (_, i) => `job_cap${String(i)}`);
      for (const id of ids) parts.store.create(id, 'alpha', parsed.value, Date.now());
      try {
        const body = { url: `http://127.0.0.1:${NGINX_PORT}/one.bin`, route: 'socks' };
        const refused = await contentCall(base, { token: TOKEN }, 'POST', '/v1/requests', body);
        assert.equal(refused.status, 429);
        assert.equal(refused.headers.get('retry-after'), '10');
        assert.match(
          (refused.body as { error: { message: string } }).error.message,
          /1000 jobs of yours are not finished yet \(TORFLEET_TORRENT_MAX_QUEUED\)/,
        );
        assert.equal((await call('POST', '/v1/requests', { ...body, ttl: 7200 })).status, 202, 'another client');
      } finally {
        for (const id of ids) parts.store.move(id, 'QUEUED', 'CANCELLED', Date.now());
      }
    });
  },
);
