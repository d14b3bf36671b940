import { Gauge, type Registry } from 'prom-client';
import { GEO_CATEGORIES } from '../fleet/fleet-types.js';
import type { ApiSource } from './api-source.js';
import { readyCounts } from './proxy-readiness.js';
import { sourceProxyViews } from './proxy-view.js';
import { unlessFailing } from './scrape-reads.js';

/** The proxies as they run: containers up, proxies ready, pending, out of restart budget; read at each scrape. */
export function registerProxyGauges(registry: Registry, source: ApiSource): void {
  const registers = [registry];
  // Both gauges are collected in the same scrape: one runtime list serves them (not one Docker call each).
  let listing: Promise<Awaited<ReturnType<ApiSource['observed']>> | undefined> | undefined;
  const observedOnce = (): NonNullable<typeof listing> =>
    (listing ??= unlessFailing(() => source.observed()).finally(() => {
      listing = undefined;
    }));
  new Gauge({
    name: 'torfleet_active_proxy_containers',
    help: 'Proxy containers (or processes) running, by geo category of their pool.',
    labelNames: ['geo_category'],
    registers,
    async collect() {
      const plan = source.lastPlan();
      const observed = await observedOnce();
      if (!observed) return;
      const running = new Set(observed.filter((p) => p.state === 'running').map((p) => p.name));
      for (const category of GEO_CATEGORIES) {
        const count = (plan?.changes ?? []).filter(
          (c) => c.after && running.has(c.proxy) && c.after.geoCategory === category,
        ).length;
        this.set({ geo_category: category }, count);
      }
    },
  });
  new Gauge({
    name: 'torfleet_proxies_ready',
    help: 'Proxies ready for traffic (running, tor bootstrapped to 100%, last egress check ok), by geo category.',
    labelNames: ['geo_category'],
    registers,
    async collect() {
      const plan = source.lastPlan();
      const observed = await observedOnce();
      if (!observed) return;
      const counts = readyCounts(plan, sourceProxyViews(source, observed));
      for (const category of GEO_CATEGORIES) this.set({ geo_category: category }, counts[category].ready);
    },
  });
  new Gauge({
    name: 'torfleet_proxies_pending',
    help: 'Wanted proxies the runtime holds pending (a swarm service no node can take: see reason in GET /proxies).',
    registers,
    async collect() {
      const observed = await observedOnce();
      if (!observed) return;
      const wanted = new Set((source.lastPlan()?.changes ?? []).flatMap((c) => (c.after ? [c.after.name] : [])));
      this.set(observed.filter((p) => p.state === 'pending' && wanted.has(p.name)).length);
    },
  });
  new Gauge({
    name: 'torfleet_proxies_out_of_restart_budget',
    help: 'Proxies whose tor bootstrap is stuck and whose restart budget is spent: left alone until the window frees a restart.',
    registers,
    collect() {
      this.set(source.outOfRestartBudget?.() ?? 0);
    },
  });
}
