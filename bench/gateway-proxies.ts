/**
 * Gateway budgets (issue 10), side by side in one run on one machine: privoxy, tinyproxy, the gateway and direct
 * SOCKS5, all in front of the same microsocks and the same nginx on loopback.
 * Proxies alternate round by round (A, B, C, A, B, C, ...) so machine noise spreads over all; medians of the rounds.
 * TORFLEET_BENCH_GW_ROUNDS (3), TORFLEET_BENCH_GW_WRK_SECONDS (3), TORFLEET_BENCH_GW_SETTLE_SECONDS (10: idle before the
 * settled RSS), TORFLEET_BENCH_GW_STALL=0 skips the event-loop part,
 * TORFLEET_BENCH_GW_ONLY=privoxy,gateway keeps the proxies whose names contain one of the words.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { BUSY_MS, measureStall, type StallFigures } from './gateway/event-loop-stall.js';
import { measureRound, type BenchSettings } from './gateway/measure-round.js';
import { PROXIES_UNDER_TEST } from './gateway/proxies-under-test.js';
import { budgetTable, figuresTables, notes, stallTable, type ProxyResults } from './gateway/report.js';
import { startSharedPeers } from './gateway/shared-peers.js';

const env = (name: string, fallback: number): number => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value <= 0)
    throw new Error(`${name}=${process.env[name] ?? ''}: give a positive number`);
  return value;
};

export async function benchGatewayProxies(): Promise<void> {
  const rounds = env('TORFLEET_BENCH_GW_ROUNDS', 3);
  const settings: BenchSettings = {
    wrkSeconds: env('TORFLEET_BENCH_GW_WRK_SECONDS', 3),
    tunnelSeconds: 2,
    plainGets: 300,
    settleSeconds: env('TORFLEET_BENCH_GW_SETTLE_SECONDS', 10),
  };
  const stall = process.env.TORFLEET_BENCH_GW_STALL !== '0';
  const dir = mkdtempSync(path.join(tmpdir(), 'torfleet-bench-gateway-'));
  const peers = await startSharedPeers(dir);
  const only = (process.env.TORFLEET_BENCH_GW_ONLY ?? '').split(',').filter(Boolean);
  const chosen = PROXIES_UNDER_TEST.filter((p) => only.length === 0 || only.some((word) => p.name.includes(word)));
  const results: ProxyResults[] = chosen.map((proxy) => ({ proxy, rounds: [], failures: [] }));
  const stallIdle: StallFigures[] = [];
  const stallBusy: StallFigures[] = [];
  const stallWorker: StallFigures[] = [];
  const began = performance.now();
  const loadAtStart = loadavg()[0] ?? NaN;
  try {
    for (let round = 0; round < rounds; round++) {
      for (const result of results) {
        // a proxy that could not start in round 1 (the gateway before it exists) is not retried
        if (round > 0 && result.rounds.length === 0) continue;
        try {
          result.rounds.push(await measureRound(result.proxy, peers, settings));
        } catch (error) {
          result.failures.push((error as Error).message);
        }
      }
      if (stall) {
        stallIdle.push(await measureStall(peers, 'main', 0, 4));
        stallBusy.push(await measureStall(peers, 'main', BUSY_MS, 4));
        stallWorker.push(await measureStall(peers, 'worker', BUSY_MS, 4));
      }
    }
  } finally {
    await peers.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const lines = [
    '',
    `## gateway (issue 10): HTTP proxies and direct SOCKS5 in front of one microsocks and one nginx, loopback`,
    `${rounds} rounds alternating the proxies, medians; wrk ${settings.wrkSeconds} s per run; ${peers.socksNote}; ` +
      `RSS settled: after ${settings.settleSeconds} s idle from the start; ` +
      `bench took ${Math.round((performance.now() - began) / 1000)} s; load average (1 min) ${loadAtStart.toFixed(1)} at the start, ${(loadavg()[0] ?? NaN).toFixed(1)} at the end`,
    '',
    ...figuresTables(results),
    '',
    ...budgetTable(results),
  ];
  if (stall) lines.push('', ...stallTable(stallIdle, stallBusy, stallWorker));
  const remarks = notes(results);
  if (remarks.length > 0) lines.push('', ...remarks);
  console.log(lines.join('\n'));
}
