import { Counter, Gauge, type Registry } from 'prom-client';
import type { ApiSource } from './api-source.js';

/** The supervisor's runnables: every one is listed from the first scrape (at 0 restarts). */
export function registerRunnableMetrics(registry: Registry, source: ApiSource): void {
  const registers = [registry];
  new Gauge({
    name: 'torfleet_runnable_up',
    help: '1 while a runnable of torfleet run (api, controller, node-refresh, ...) is running, 0 while it starts, waits to restart or stops.',
    labelNames: ['runnable'],
    registers,
    collect() {
      for (const view of source.runnables?.() ?? [])
        this.set({ runnable: view.name }, view.state === 'running' ? 1 : 0);
    },
  });
  new Counter({
    name: 'torfleet_runnable_restarts_total',
    help: 'Times a runnable of torfleet run was started again after it failed (see the log line "runnable failed").',
    labelNames: ['runnable'],
    registers,
    collect() {
      this.reset();
      for (const view of source.runnables?.() ?? []) this.inc({ runnable: view.name }, view.restarts);
    },
  });
}
