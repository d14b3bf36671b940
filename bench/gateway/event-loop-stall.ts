/**
 * "Does reconcile work stall tunnels?": tunnels through the stand-in while its event loop runs a 300 ms synchronous
 * loop every second, against the same stand-in free. Open loop (a new tunnel every 10 ms whatever the answers do),
 * so the tunnels that arrive during a stall are counted as users see them; a closed loop would hide them.
 */
import { freePort } from './free-port.js';
import { NAIVE_FORWARDER, type BenchPeers } from './proxies-under-test.js';
import { startService } from './spawned-service.js';
import { percentile } from './stats.js';
import { tunnelOnce, type TunnelTiming } from './tunnel-client.js';

export const BUSY_MS = 300;
const ARRIVAL_EVERY_MS = 10;

export interface StallFigures {
  readonly busyMs: number;
  readonly tunnels: number;
  readonly failures: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export async function measureStall(peers: BenchPeers, busyMs: number, seconds: number): Promise<StallFigures> {
  const port = await freePort();
  const args = [NAIVE_FORWARDER, String(port), String(peers.socksPort)];
  const env = { BENCH_BUSY_MS: String(busyMs) };
  const name = 'naive forwarder (busy loop)';
  const service = await startService({ name, command: process.execPath, args, port, env });
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
