import { Counter, Histogram, type Registry } from 'prom-client';
import type { PassOutcome, PassRecord } from '../reconcile/status.js';

const OUTCOMES: readonly PassOutcome[] = ['converged', 'partial', 'stalled', 'failed'];

export interface ReconcileMetrics {
  /** Counts the pass by outcome and records its duration. */
  observePass(record: PassRecord): void;
}

/** The reconcile passes: how many, by result, and how long they took. */
export function registerReconcileMetrics(registry: Registry): ReconcileMetrics {
  const registers = [registry];
  const reconcileTotal = new Counter({
    name: 'torfleet_reconcile_total',
    help: 'Reconcile passes, by result.',
    labelNames: ['result'],
    registers,
  });
  for (const result of OUTCOMES) reconcileTotal.inc({ result }, 0);
  const reconcileDuration = new Histogram({
    name: 'torfleet_reconcile_duration_seconds',
    help: 'Duration of reconcile passes.',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers,
  });
  return {
    observePass(record) {
      reconcileTotal.inc({ result: record.outcome });
      reconcileDuration.observe(record.durationMs / 1000);
    },
  };
}
