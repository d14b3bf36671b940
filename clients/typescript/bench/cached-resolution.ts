import { performance } from 'node:perf_hooks';
import { ProxyServiceClient } from '../src/client.js';
import { startFixture, type RunningFixture } from '../src/fixture.js';

/**
 * Bench of the TypeScript client, the twin of clients/python/bench_cached_resolution.py: request() cached p50/p99
 * over 100k calls, and the time from the service dying (killed, or hung by SIGSTOP) to request() returning the
 * embedded fallback, and back after SIGCONT. Starts the fixture broker (dist/, `npm run build`); prints one
 * Markdown line each. `node dist/clients/typescript/bench/cached-resolution.js [CALLS]`.
 */
const FALLBACK = { regions: { '*': ['socks5h://127.0.0.1:29050'] } };
const US = { connectionType: 'rest', region: 'US' } as const;

const pct = (sorted: readonly number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN;

const client = (url: string, options: { breakerMaxSeconds?: number } = {}): ProxyServiceClient =>
  new ProxyServiceClient({ endpoints: [url], token: 't-collector', fallback: FALLBACK, ...options });

function signal(fixture: RunningFixture, name: NodeJS.Signals): void {
  if (fixture.child.pid !== undefined) process.kill(fixture.child.pid, name);
}

async function cached(calls: number): Promise<void> {
  const fixture = await startFixture('basic');
  try {
    const warm = client(fixture.url);
    if ((await warm.request({ exchangeId: 'binance', ...US })).source !== 'service') throw new Error('not served');
    const times = new Float64Array(calls);
    const args = { exchangeId: 'binance', ...US };
    for (let i = 0; i < calls; i++) {
      const t = performance.now();
      await warm.request(args);
      times[i] = performance.now() - t;
    }
    const sorted = [...times].sort((a, b) => a - b);
    const us = (ms: number): string => (ms * 1000).toFixed(2);
    console.log(
      `| TypeScript client cached request() | ${String(calls)} calls | p50 ${us(pct(sorted, 0.5))} µs | p99 ${us(pct(sorted, 0.99))} µs | max ${((sorted.at(-1) ?? 0) * 1000).toFixed(1)} µs |`,
    );
    await warm.close();
  } finally {
    await fixture.stop();
  }
}

/** A warm client (its connection kept alive), then the service killed; each call a new key (no cache). */
async function killed(): Promise<void> {
  const fixture = await startFixture('basic');
  const warm = client(fixture.url);
  try {
    if ((await warm.request({ exchangeId: 'warm', ...US })).source !== 'service') throw new Error('not served');
  } finally {
    signal(fixture, 'SIGKILL');
    await fixture.stop();
  }
  const died = performance.now();
  let n = 0;
  while ((await warm.request({ exchangeId: `after-${String(++n)}`, ...US })).source !== 'embedded');
  const took = performance.now() - died;
  const t = performance.now();
  const again = await warm.request({ exchangeId: 'after-again', ...US });
  const next = performance.now() - t;
  console.log(
    `| TypeScript client time to fallback | service killed (refused) | ${took.toFixed(1)} ms to the embedded fallback | next call ${next.toFixed(2)} ms (${again.source}) |`,
  );
  await warm.close(0.5);
}

/** The service stopped (SIGSTOP: connections accepted by the kernel, never answered), then continued. */
async function hung(): Promise<void> {
  const fixture = await startFixture('basic');
  try {
    const warm = client(fixture.url, { breakerMaxSeconds: 2 });
    if ((await warm.request({ exchangeId: 'warm', ...US })).source !== 'service') throw new Error('not served');
    signal(fixture, 'SIGSTOP');
    const died = performance.now();
    let n = 0;
    let first: number | null = null;
    while (warm.stats().endpoints[0]?.state === 'closed') {
      const lease = await warm.request({ exchangeId: `hung-${String(++n)}`, ...US });
      if (first === null && lease.source === 'embedded') first = performance.now() - died;
    }
    const opened = performance.now() - died;
    signal(fixture, 'SIGCONT');
    const back = performance.now();
    while ((await warm.request({ exchangeId: `back-${String(++n)}`, ...US })).source !== 'service') {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const recovered = performance.now() - back;
    console.log(
      `| TypeScript client time to fallback | service hung (SIGSTOP) | ${(first ?? NaN).toFixed(0)} ms to the embedded fallback | breaker open after ${opened.toFixed(0)} ms | back on the service ${recovered.toFixed(0)} ms after SIGCONT |`,
    );
    await warm.close(0.5);
  } finally {
    await fixture.stop(); // SIGCONT first, then SIGTERM
  }
}

const calls = Number(process.argv[2] ?? 100_000);
await cached(calls);
await killed();
await hung();
