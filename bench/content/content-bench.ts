/**
 * Content jobs (BENCHMARKS.md, "Content jobs"): submit → READY for 1 MiB and 100 MiB through a local SOCKS5 upstream
 * (microsocks in front of nginx), beside the bare fetch (curl through the same upstream to a file, and the service's
 * own route fetch into nothing): what hashing, storing, making the torrent and starting to seed add; the service's
 * peak RSS while fetching each size (it must not grow with the file); aria2c's download rate from the seeder on
 * loopback beside aria2c seeding the same torrent; jobs accepted per second (wrk, bearer token, each POST a SQLite
 * insert). Every job gets bytes of its own, so nothing is served from a stored copy.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import bencode from 'bencode';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { packagePath } from '../../reconciler/src/package-root.js';
import { runAria2c } from '../../reconciler/src/testing/aria2c.js';
import { contentCall } from '../../reconciler/src/testing/content-client.js';
import { startNginx } from '../../reconciler/src/testing/nginx-origin.js';
import { startMicrosocks } from '../../reconciler/src/testing/proxy-daemons.js';
import { parseTorrentInfo } from '../../reconciler/src/torrent/torrent-file.js';
import { fetchThroughRoute } from '../../reconciler/src/torrent/route-fetch.js';
import { socksRouteTable } from '../../reconciler/src/testing/gateway-fixtures.js';
import { createFleetDialer } from '../../reconciler/src/gateway/fleet-dialer.js';
import { silentLogger } from '../../reconciler/src/logger.js';
import { Tracker } from '../../reconciler/src/torrent/tracker.js';
import { waitForPort } from '../gateway/free-port.js';
import { postScript, wrk } from '../broker/wrk-run.js';
import { parseVmRssKb } from '../gateway/proc-tree.js';
import { median } from '../gateway/stats.js';

const run = promisify(execFile);
const NGINX_PORT = 26970;
const API_PORT = 26972;
const PEER_PORT = 26973;
const ARIA_PORT = 26975; // to 26990
const PEER_TRACKER_PORT = 26991;
const PEER_SEED_PORT = 26992;
const TOKEN = 'bench-content-token';
const SECRET = 'bench-content-secret-0123456789';
const MiB = 1024 * 1024;
const base = `http://127.0.0.1:${String(API_PORT)}`;

const rssMb = (pid: number): number => parseVmRssKb(readFileSync(`/proc/${String(pid)}/status`, 'utf8')) / 1024;

async function startChild(dir: string, socksPort: number): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      packagePath('dist', 'bench', 'content', 'content-child.js'),
      dir,
      String(socksPort),
      String(API_PORT),
      String(PEER_PORT),
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: {
        ...process.env,
        BENCH_TOKEN: TOKEN,
        TORFLEET_TORRENT_SECRET: SECRET,
        TORFLEET_TORRENT_MAX_SIZE: '1GiB',
        TORFLEET_TORRENT_RATE: '100000',
        TORFLEET_TORRENT_MAX_QUEUED: '1000000',
        TORFLEET_TORRENT_WORKERS: '2',
      },
    },
  );
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => {
      reject(new Error(`the content service ended (${String(code)}) before listening`));
    });
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).once('line', () => {
      resolve();
    });
  });
  return child;
}

/** Submits a job for `url` and waits for READY, sampling the service's RSS; ms from submit to READY, peak MB. */
async function jobToReady(url: string, pid: number): Promise<{ ms: number; peakMb: number; id: string }> {
  const started = performance.now();
  const submitted = await contentCall(base, { token: TOKEN }, 'POST', '/v1/requests', { url, route: 'socks' });
  if (submitted.status !== 202)
    throw new Error(`submit: ${String(submitted.status)} ${JSON.stringify(submitted.body)}`);
  const { id } = submitted.body as { id: string };
  let peakMb = rssMb(pid);
  for (;;) {
    const job = (await contentCall(base, { token: TOKEN }, 'GET', `/v1/requests/${id}`)).body as Record<
      string,
      unknown
    >;
    peakMb = Math.max(peakMb, rssMb(pid));
    if (job.status === 'READY') return { ms: performance.now() - started, peakMb, id };
    if (job.status === 'FAILED') throw new Error(`job ${id} failed: ${String(job.error_message)}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The service's own fetch path (the gateway's dialer through the route, Node's HTTP client) into nothing: no hash, no disk. */
async function routeFetchMs(url: string, socksPort: number): Promise<number> {
  const routes = socksRouteTable({ socks: socksPort });
  const options = {
    dialer: createFleetDialer({
      health: { usable: () => true },
      now: Date.now,
      random: Math.random,
      connectTimeoutMs: 10_000,
      maxAttempts: 1,
      log: silentLogger,
    }),
    routes: () => routes,
    connectTimeoutMs: 10_000,
    readTimeoutMs: 10_000,
    maxRedirects: 0,
    mimeAllowlist: ['application/octet-stream'],
    maxBytes: 1024 * MiB,
  };
  const started = performance.now();
  const fetched = await fetchThroughRoute(
    options,
    { url, method: 'GET', headers: {}, body: null, route: 'socks', session: 'bench' },
    new AbortController().signal,
  );
  await pipeline(
    fetched.body,
    new Writable({
      write(_chunk, _encoding, done) {
        done();
      },
    }),
  );
  return performance.now() - started;
}

/** curl's own time from start to the last byte (`%{time_total}`: its process start is not in it). */
async function bareFetchMs(url: string, socksPort: number, into: string): Promise<number> {
  const { stdout } = await run('curl', [
    '-s',
    '--fail',
    '--socks5',
    `127.0.0.1:${String(socksPort)}`,
    '-o',
    into,
    '-w',
    '%{time_total}',
    url,
  ]);
  return Number(stdout) * 1000;
}

/** The same torrent seeded by aria2c itself (the peer), listed by a tracker of its own: aria2c's download rate from it. */
async function aria2cSeedingRates(dir: string, torrent: Buffer, jobId: string): Promise<number[]> {
  const seedDir = mkdtempSync(path.join(dir, 'aria-seed-'));
  const info = parseTorrentInfo(torrent);
  const stored = (await contentCall(base, { token: TOKEN }, 'GET', `/v1/requests/${jobId}`)).body as {
    content_hash: string;
  };
  const hash = stored.content_hash;
  copyFileSync(path.join(dir, 'content', hash.slice(0, 2), hash.slice(2, 4), hash), path.join(seedDir, info.name));
  // A tracker of its own that lists aria2c's seed, and a copy of the torrent announcing to it.
  const tracker = new Tracker({ isKnown: () => true });
  tracker.addSeeder(info.infoHash, '127.0.0.1', PEER_SEED_PORT);
  const server = createServer(tracker.handle);
  await new Promise<void>((resolve) => server.listen(PEER_TRACKER_PORT, '127.0.0.1', resolve));
  const meta = bencode.decode(torrent) as Record<string, unknown>;
  const announce = `http://127.0.0.1:${String(PEER_TRACKER_PORT)}/announce`;
  meta.announce = announce;
  meta['announce-list'] = [[announce]];
  const peerTorrent = path.join(seedDir, 'peer.torrent');
  writeFileSync(peerTorrent, Buffer.from(bencode.encode(meta)));
  const seed = spawn(
    'aria2c',
    [
      '--no-conf=true',
      `--dir=${seedDir}`,
      '--check-integrity=true',
      '--seed-ratio=0.0',
      '--seed-time=600',
      '--enable-dht=false',
      '--enable-peer-exchange=false',
      '--bt-enable-lpd=false',
      '--disable-ipv6=true',
      `--listen-port=${String(PEER_SEED_PORT)}`,
      `--dht-listen-port=${String(PEER_SEED_PORT + 1)}`,
      '--console-log-level=warn',
      '--summary-interval=0',
      peerTorrent,
    ],
    { stdio: 'ignore' },
  );
  const rates: number[] = [];
  try {
    await waitForPort(PEER_SEED_PORT, 60_000, () => seed.exitCode === null);
    for (let i = 0; i < 3; i++) {
      const into = mkdtempSync(path.join(dir, 'aria-peer-'));
      const started = performance.now();
      const result = await runAria2c({
        torrentFile: peerTorrent,
        dir: into,
        listenPort: ARIA_PORT + 10 + 2 * i,
        dhtPort: ARIA_PORT + 11 + 2 * i,
      });
      if (result.code !== 0) throw new Error(`aria2c from aria2c: ${result.output}`);
      rates.push(100 / ((performance.now() - started) / 1000));
      rmSync(into, { recursive: true, force: true });
    }
  } finally {
    seed.kill('SIGTERM');
    await new Promise((resolve) => server.close(resolve));
  }
  return rates;
}

export async function benchContent(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'torfleet-bench-content-'));
  const nginx = await startNginx(dir, NGINX_PORT);
  const socks = await startMicrosocks().catch(async (error: unknown) => {
    await nginx.stop();
    throw error;
  });
  let service: ChildProcess | undefined;
  try {
    service = await startChild(dir, socks.port);
    const pid = service.pid ?? 0;
    console.log('\n### Content jobs (issue 12)\n');
    console.log(`service RSS idle: ${rssMb(pid).toFixed(1)} MB\n`);
    console.log(
      '| size | curl via microsocks p50 | route fetch, nothing stored p50 | submit → READY p50 | store + torrent + seed | service peak RSS | runs |',
    );
    console.log('|---|---|---|---|---|---|---|');
    let big = '';
    for (const [label, size, runs] of [
      ['1 MiB', MiB, 7],
      ['100 MiB', 100 * MiB, 3],
    ] as const) {
      const bare: number[] = [];
      const routeOnly: number[] = [];
      const ready: number[] = [];
      let peak = 0;
      for (let i = 0; i < runs; i++) {
        const name = `${String(size)}-${String(i)}.bin`;
        writeFileSync(path.join(nginx.www, name), randomBytes(size));
        const url = `http://127.0.0.1:${String(NGINX_PORT)}/${name}`;
        bare.push(await bareFetchMs(url, socks.port, path.join(dir, 'bare.bin')));
        routeOnly.push(await routeFetchMs(url, socks.port));
        const job = await jobToReady(url, pid);
        ready.push(job.ms);
        peak = Math.max(peak, job.peakMb);
        if (size > MiB) big = job.id;
        rmSync(path.join(nginx.www, name));
      }
      const [b, f, r] = [median(bare), median(routeOnly), median(ready)];
      console.log(
        `| ${label} | ${b.toFixed(0)} ms | ${f.toFixed(0)} ms | ${r.toFixed(0)} ms | ${(r - f).toFixed(0)} ms | ${peak.toFixed(1)} MB | ${String(runs)} |`,
      );
    }
    const torrent = await contentCall(base, { token: TOKEN }, 'GET', `/v1/requests/${big}/torrent`);
    const rates: number[] = [];
    for (let i = 0; i < 3; i++) {
      const into = mkdtempSync(path.join(dir, 'aria-'));
      const file = path.join(into, 'big.torrent');
      writeFileSync(file, torrent.bytes);
      const started = performance.now();
      const result = await runAria2c({
        torrentFile: file,
        dir: into,
        listenPort: ARIA_PORT + 2 * i,
        dhtPort: ARIA_PORT + 2 * i + 1,
      });
      if (result.code !== 0) throw new Error(`aria2c: ${result.output}`);
      rates.push((100 * MiB) / MiB / ((performance.now() - started) / 1000));
      rmSync(into, { recursive: true, force: true });
    }
    const peerRates = await aria2cSeedingRates(dir, torrent.bytes, big);
    console.log(
      `\naria2c downloading 100 MiB on loopback (the whole aria2c run: tracker, handshake, download, hash check), p50 of 3: from torfleet's seeder ${median(rates).toFixed(0)} MiB/s (${rates.map((rate) => rate.toFixed(0)).join(', ')}); from aria2c seeding the same torrent ${median(peerRates).toFixed(0)} MiB/s (${peerRates.map((rate) => rate.toFixed(0)).join(', ')})`,
    );
    const script = postScript(
      dir,
      'jobs',
      '/v1/requests',
      TOKEN,
      `'{"url":"http://127.0.0.1:${String(NGINX_PORT)}/gone-' .. tid .. '-' .. counter .. '","route":"socks"}'`,
    );
    const figures = await wrk(base, script, 16, 10);
    console.log(
      `\njobs accepted (wrk, 16 connections, 10 s, each a 404 for the workers to fail): ${Math.round(figures.requestsPerSecond).toLocaleString('en-US')}/s, p50 ${figures.p50Ms.toFixed(2)} ms, p99 ${figures.p99Ms.toFixed(2)} ms, non-2xx ${String(figures.non2xx + figures.errors)}; RSS after: ${rssMb(pid).toFixed(1)} MB`,
    );
  } finally {
    // Whatever failed (the service not starting included), nothing of the bench is left running.
    const child = service;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    await socks.stop();
    await nginx.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
