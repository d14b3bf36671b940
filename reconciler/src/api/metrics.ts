import { Registry } from 'prom-client';
import type { PassRecord } from '../reconcile/status.js';
import type { ApiSource } from './api-source.js';
import { registerControllerMetrics, type ControllerMetrics } from './controller-metrics.js';
import { registerFleetGauges } from './fleet-metrics.js';
import { registerHttpMetrics, type HttpMetrics } from './http-metrics.js';
import { registerProcessMetrics } from './process-metrics.js';
import { registerProxyCheckMetrics, type ProxyCheckMetrics } from './proxy-check-metrics.js';
import { registerProxyGauges } from './proxy-metrics.js';
import { registerReconcileMetrics, type ReconcileMetrics } from './reconcile-metrics.js';
import { registerRunnableMetrics } from './runnable-metrics.js';

/**
 * The contract's metrics, in a registry of their own (no module-level singleton). Gauges are read from
 * the source when Prometheus scrapes; counters and histograms are fed by passes and requests. Every label
 * value is initialised at start, so a series exists (at 0) before its first event. The groups register in
 * this order, which is the order of GET /metrics.
 */
export class TorfleetMetrics {
  readonly registry = new Registry();
  private readonly controller: ControllerMetrics;
  private readonly proxyChecks: ProxyCheckMetrics;
  private readonly passes: ReconcileMetrics;
  private readonly http: HttpMetrics;

  constructor(source: ApiSource, routes: readonly string[]) {
    registerProcessMetrics(this.registry);
    registerProxyGauges(this.registry, source);
    registerFleetGauges(this.registry, source);
    this.controller = registerControllerMetrics(this.registry, source);
    registerRunnableMetrics(this.registry, source);
    this.proxyChecks = registerProxyCheckMetrics(this.registry);
    this.passes = registerReconcileMetrics(this.registry);
    this.http = registerHttpMetrics(this.registry, routes);
  }

  observePass(record: PassRecord): void {
    this.passes.observePass(record);
    this.controller.observeChangeFailures(record);
  }

  observeEgress(result: string): void {
    this.proxyChecks.observeEgress(result);
  }

  observeRestart(reason: string): void {
    this.proxyChecks.observeRestart(reason);
  }

  observeRequest(method: string, route: string, status: number, seconds: number): void {
    this.http.observeRequest(method, route, status, seconds);
  }
}
