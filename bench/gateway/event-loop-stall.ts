/**
 * "Does reconcile work stall tunnels?": tunnels through torfleet's gateway while the main thread of its process runs
 * a 300 ms synchronous loop every second (reconcile work: a node refresh, SQLite), with the gateway on that thread
 * (`main`, as `torfleet gateway` hosts it) or in its worker thread (`worker`, as `torfleet run` does), against the
 * same free. Open loop (a new tunnel every 10 ms whatever the answers do), so the tunnels that arrive during a
 * stall are counted as users see them; a closed loop would hide them.
 */
import { freePort } from './free-port.js';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchPeers } from './proxies-under-test.js';
import { startService } from './spawned-service.js';
import { percentile } from './stats.js';
import { tunnelOnce, type TunnelTiming } from './tunnel-client.js';

export const BUSY_MS = 300;
const ARRIVAL_EVERY_MS = 10;
const HOST = path.join(path.dirname(fileURLToPath(import.meta.url)), 'gateway-stall-host.js');

export type GatewayThreading = 'main' | 'worker';

export interface StallFigures {
  readonly busyMs: number;
  readonly threading: GatewayThreading;
  readonly tunnels: number;
  readonly failures: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export async function measureStall(
  peers: BenchPeers,
  threading: GatewayThreading,
  busyMs: number,
  seconds: number,
): Promise<StallFigures> {
  const port = await freePort();
  const args = [HOST, String(port), String(peers.socksPort), threading, String(busyMs)];
  const name = `gateway (${threading} thread, busy ${String(busyMs)} ms)`;
  const service = await startService({ name, command: process.execPath, args, port, env: {} });
  try {
    const tunnels: Promise<TunnelTiming | null>[] = [];
    const end = performance.now() + seconds * 1000;
    while (performance.now() < end) {
      tunnels.push(tunnelOnce({ kind: 'http', port }, { port: peers.originPort }).catch(() => null));
      await new Promise((resolve) => setTimeout(resolve, ARRIVAL_EVERY_MS));
    }
    const done = await Promise.all(tunnels);
    const totals = done.filter((t) => t !== null).map((t) => t.totalMs);
    return {
      busyMs,
      threading,
      tunnels: totals.length,
      failures: done.length - totals.length,
      p50Ms: percentile(totals, 50),
      p99Ms: percentile(totals, 99),
      maxMs: percentile(totals, 100),
    };
  } finally {
    await service.stop();
  }
}
