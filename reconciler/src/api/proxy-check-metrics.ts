import { Counter, type Registry } from 'prom-client';
import { RESTART_REASONS } from '../probe/health-monitor.js';

export interface ProxyCheckMetrics {
  observeEgress(result: string): void;
  observeRestart(reason: string): void;
}

/** What the checks of the proxies found: egress checks by result, and the restarts they led to, by reason. */
export function registerProxyCheckMetrics(registry: Registry): ProxyCheckMetrics {
  const registers = [registry];
  const egressChecks = new Counter({
    name: 'torfleet_egress_checks_total',
    help: 'Egress checks through the proxies, by result (ok, mismatch, failed).',
    labelNames: ['result'],
    registers,
  });
  for (const result of ['ok', 'mismatch', 'failed']) egressChecks.inc({ result }, 0);
  const proxyRestarts = new Counter({
    name: 'torfleet_proxy_restarts_total',
    help: 'Proxies torfleet restarted, by reason (bootstrap_stalled: no bootstrap progress for TORFLEET_BOOTSTRAP_TIMEOUT).',
    labelNames: ['reason'],
    registers,
  });
  for (const reason of RESTART_REASONS) proxyRestarts.inc({ reason }, 0);
  return {
    observeEgress(result) {
      egressChecks.inc({ result });
    },
    observeRestart(reason) {
      proxyRestarts.inc({ reason });
    },
  };
}
