/**
 * The broker under load (BENCHMARKS.md, "Broker"): request answers/s and p50/p99 at 50 concurrent connections for
 * new leases (each a SQLite write) and sticky ones (a read), feedback events/s (batches of 1000, and one by one),
 * side by side with the HTTP floor (a bare node:http server answering a fixed lease); the service's memory idle and
 * with 10,000 active leases. The real broker (the fixture broker: the service's HTTP server and decisions on a fixed
 * fleet of 100 proxies, leases in a database file), wrk as the load generator.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { packagePath } from '../../reconciler/src/package-root.js';
import { parseVmRssKb } from '../gateway/proc-tree.js';
import { startService } from '../gateway/spawned-service.js';
import { postScript, wrk, type WrkFigures } from './wrk-run.js';

const run = promisify(execFile);
const BROKER_PORT = 26950;
const FLOOR_PORT = 26951;
const TOKEN = 'bench-broker-token';
const SECONDS = 10;

function fixture(dir: string, port: number): string {
  const proxies = Array.from({ length: 100 }, (_, i) => ({
    proxy_id: `${i < 50 ? 'us' : 'de'}-${String(i % 50)}`,
    pool: i < 50 ? 'us' : 'de',
    geo: i < 50 ? 'US' : ['DE'],
    countries: [i < 50 ? 'US' : 'DE'],
    host: '127.0.0.1',
    port: 19000 + i,
  }));
  const file = path.join(dir, `fixture-${String(port)}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      proxies,
      clients: [{ name: 'bench', token: TOKEN }],
      rate: { per_second: 1_000_000, burst: 1_000_000 },
      listen: `127.0.0.1:${String(port)}`,
    }),
  );
  return file;
}

async function startBroker(dir: string, port: number): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      packagePath('dist', 'reconciler', 'src', 'testing', 'fixture-broker.js'),
      fixture(dir, port),
      '--db',
      path.join(dir, `leases-${String(port)}.db`),
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => {
      reject(new Error(`the broker ended (${String(code)}) before listening`));
    });
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).once('line', () => {
      resolve();
    });
  });
  return child;
}

const rssMb = (pid: number): number => parseVmRssKb(readFileSync(`/proc/${String(pid)}/status`, 'utf8')) / 1024;

/** `count` new leases (distinct exchanges), `concurrency` at a time over keep-alive connections. */
async function lease(port: number, count: number, concurrency: number): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  let next = 0;
  const one = (i: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const body = JSON.stringify({ exchange_id: `mem-${String(i)}`, connection_type: 'rest', region: 'US' });
      const call = request(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/api/v1/proxy/request',
          agent,
          headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        },
        (response) => {
          response.resume();
          response.on('end', () => {
            if (response.statusCode === 200) resolve();
            else reject(new Error(`lease ${String(i)}: ${String(response.statusCode)}`));
          });
        },
      );
      call.on('error', reject);
      call.end(body);
    });
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await one(next++);
    }),
  );
  agent.destroy();
}

const row = (name: string, figures: WrkFigures, perRequest = 1): string =>
  `| ${name} | ${Math.round(figures.requestsPerSecond * perRequest).toLocaleString('en-US')} | ${figures.p50Ms.toFixed(2)} | ${figures.p99Ms.toFixed(2)} | ${String(figures.non2xx + figures.errors)} |`;

/** The clients' own benches (cached resolution, time to fallback), each printing Markdown rows. */
async function clientBenches(): Promise<void> {
  console.log('\n| client | what | figures | | |\n|---|---|---|---|---|');
  for (const [command, args] of [
    ['python3', [packagePath('clients', 'python', 'bench_cached_resolution.py')]],
    [process.execPath, [packagePath('dist', 'clients', 'typescript', 'bench', 'cached-resolution.js')]],
  ] as const) {
    const { stdout } = await run(command, [...args], { maxBuffer: 1 << 20, timeout: 300_000 });
    process.stdout.write(
      stdout
        .split('\n')
        .filter((line) => line.startsWith('|'))
        .join('\n') + '\n',
    );
  }
}

export async function benchBroker(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'torfleet-bench-broker-'));
  const broker = await startBroker(dir, BROKER_PORT);
  const floor = await startService({
    name: 'node-floor-http',
    command: process.execPath,
    args: [packagePath('dist', 'bench', 'broker', 'node-floor-http.js'), String(FLOOR_PORT)],
    port: FLOOR_PORT,
  });
  const url = `http://127.0.0.1:${String(BROKER_PORT)}`;
  const REQUEST = '/api/v1/proxy/request';
  const newLease = postScript(
    dir,
    'new',
    REQUEST,
    TOKEN,
    `'{"exchange_id":"x' .. tid .. '-' .. counter .. '","connection_type":"rest","region":"US"}'`,
  );
  const sticky = postScript(
    dir,
    'sticky',
    REQUEST,
    TOKEN,
    `'{"exchange_id":"same","connection_type":"rest","region":"US"}'`,
  );
  const event = (i: number): string =>
    JSON.stringify({
      proxy_id: `us-${String(i % 50)}`,
      exchange_id: 'binance',
      event: 'result',
      success: i % 10 !== 0,
      latency_ms: 80 + (i % 40),
      status_code: i % 10 === 0 ? 502 : 200,
    });
  const batch = `[${Array.from({ length: 1000 }, (_, i) => event(i)).join(',')}]`;
  const feedbackBatch = postScript(dir, 'batch', '/api/v1/proxy/feedback', TOKEN, `'${batch}'`);
  const feedbackOne = postScript(dir, 'one', '/api/v1/proxy/feedback', TOKEN, `'${event(1)}'`);
  try {
    await wrk(url, sticky, 50, 2); // warm-up
    const results = {
      newLease: await wrk(url, newLease, 50, SECONDS),
      sticky: await wrk(url, sticky, 50, SECONDS),
      floor: await wrk(`http://127.0.0.1:${String(FLOOR_PORT)}`, sticky, 50, SECONDS),
      batches: await wrk(url, feedbackBatch, 4, SECONDS),
      single: await wrk(url, feedbackOne, 50, SECONDS),
    };
    const loadedRss = rssMb(broker.pid ?? 0);
    console.log('\n## Broker (issue 11)\n');
    console.log('| load (50 connections unless said) | answers/s (events/s for feedback) | p50 ms | p99 ms | errors |');
    console.log('|---|---|---|---|---|');
    console.log(row('request: a new lease each (SQLite write)', results.newLease));
    console.log(row('request: the sticky lease again (SQLite read)', results.sticky));
    console.log(row('HTTP floor: bare node:http, fixed answer', results.floor));
    console.log(row('feedback: batches of 1,000 events (4 connections)', results.batches, 1000));
    console.log(row('feedback: one event a call', results.single));
    console.log(`\nbroker RSS after the load: ${loadedRss.toFixed(1)} MB`);
  } finally {
    broker.kill('SIGTERM');
    await floor.stop();
  }
  // Memory with 10,000 active leases, in a fresh broker.
  const fresh = await startBroker(dir, BROKER_PORT + 2);
  try {
    const idle = rssMb(fresh.pid ?? 0);
    await lease(BROKER_PORT + 2, 10_000, 20);
    const held = rssMb(fresh.pid ?? 0);
    console.log(
      `broker RSS idle ${idle.toFixed(1)} MB; with 10,000 active leases ${held.toFixed(1)} MB (leases live in SQLite)`,
    );
  } finally {
    fresh.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
  await clientBenches();
}
