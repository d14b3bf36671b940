import { Registry } from 'prom-client';
import { diagnosePacked, type EgressDiagnosis } from '../probe/egress-diagnosis.js';
import type { PackedProxyRuntime } from '../runtime/packed-proxy-runtime.js';
import { PackedTors } from './packed-tors.js';
import { registerPackedGauges } from './packing-gauges.js';
import { registerPackingMetrics } from './packing-metrics.js';

/** How often the controllers are synced with the shared tors' records without a pass asking. */
const SYNC_MS = 10_000;

/** What `torfleet run` holds for packed pools: the `packing` runnable, its metrics, and how to read a shared tor. */
export interface PackingParts {
  /** The runnable: a controller per running shared tor. */
  readonly tors: PackedTors;
  /** Its metrics (appended to GET /metrics). */
  readonly registry: Registry;
  /** A shared tor's data directory on this host (its ControlSocket, cookie and notice.log). */
  sharedTorDirectory(tor: string): string;
  /** A failed egress check's diagnosis of packed proxy `proxy`, served by shared tor `tor`. */
  diagnose(proxy: string, tor: string): Promise<EgressDiagnosis>;
}

export function createPackingParts(runtime: PackedProxyRuntime): PackingParts {
  const registry = new Registry();
  const events = registerPackingMetrics(registry, []);
  const tors = new PackedTors({
    sharedTors: runtime.sharedTors,
    records: runtime.records,
    events,
    onPool: events.knowPool,
    intervalMs: SYNC_MS,
  });
  registerPackedGauges(registry, tors);
  const sharedTorDirectory = (tor: string): string => runtime.sharedTors.sharedTorDataDirectory(tor);
  return {
    tors,
    registry,
    sharedTorDirectory,
    diagnose: (proxy, tor) =>
      diagnosePacked(sharedTorDirectory(tor), {
        connected: tors.connected(proxy),
        lastError: tors.status(proxy)?.lastError ?? null,
      }),
  };
}
