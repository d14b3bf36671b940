import { Gauge, type Registry } from 'prom-client';
import type { PackedTors } from './packed-tors.js';

/**
 * The packed pools' gauges, read from the controllers when Prometheus scrapes: proxies each shared tor
 * serves, and proxies with and without a built circuit by pool (no proxy label: up to 1,000 per tor).
 */
export function registerPackedGauges(registry: Registry, tors: Pick<PackedTors, 'statuses'>): void {
  new Gauge({
    name: 'torfleet_packed_proxies',
    help: 'Proxies a shared tor serves (packed pools), as its controller has them.',
    labelNames: ['pool', 'tor'],
    registers: [registry],
    collect() {
      this.reset();
      for (const { pool, tor, proxies } of tors.statuses()) this.set({ pool, tor }, proxies.size);
    },
  });
  new Gauge({
    name: 'torfleet_packed_circuits',
    help: 'Packed proxies with a built circuit (state="built") and without one (state="none": they refuse streams).',
    labelNames: ['pool', 'state'],
    registers: [registry],
    collect() {
      this.reset();
      const counts = new Map<string, { built: number; none: number }>();
      for (const { pool, proxies } of tors.statuses()) {
        const count = counts.get(pool) ?? { built: 0, none: 0 };
        for (const status of proxies.values()) count[status.circuitBuilt ? 'built' : 'none']++;
        counts.set(pool, count);
      }
      for (const [pool, count] of counts) {
        this.set({ pool, state: 'built' }, count.built);
        this.set({ pool, state: 'none' }, count.none);
      }
    },
  });
}
