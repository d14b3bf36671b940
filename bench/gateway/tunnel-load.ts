/** Tunnel throughput: `inFlight` clients each doing tunnelOnce back to back for a fixed time. */
import { percentile } from './stats.js';
import { tunnelOnce, type Origin, type ProxyAddress } from './tunnel-client.js';

export interface TunnelLoad {
  readonly perSecond: number;
  readonly setupP50Ms: number;
  readonly setupP99Ms: number;
  readonly totalP99Ms: number;
  readonly failures: number;
  readonly firstFailure: string | null;
}

export async function tunnelLoad(
  proxy: ProxyAddress,
  origin: Origin,
  inFlight: number,
  seconds: number,
): Promise<TunnelLoad> {
  const setups: number[] = [];
  const totals: number[] = [];
  let failures = 0;
  let firstFailure: string | null = null;
  const started = performance.now();
  const end = started + seconds * 1000;
  const worker = async (): Promise<void> => {
    while (performance.now() < end) {
      try {
        const timing = await tunnelOnce(proxy, origin);
        setups.push(timing.setupMs);
        totals.push(timing.totalMs);
      } catch (error) {
        failures++;
        firstFailure ??= (error as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const elapsed = (performance.now() - started) / 1000;
  return {
    perSecond: setups.length / elapsed,
    setupP50Ms: percentile(setups, 50),
    setupP99Ms: percentile(setups, 99),
    totalP99Ms: percentile(totals, 99),
    failures,
    firstFailure,
  };
}
