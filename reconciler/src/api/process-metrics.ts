import { collectDefaultMetrics, type Registry } from 'prom-client';

/** Node's process metrics (CPU, memory, event loop, ...), as prom-client collects them. */
export function registerProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry });
  // prom-client names these gauges *_total, which promtool rejects (a _total suffix means a counter).
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
    registry.removeSingleMetric(name);
  }
}
