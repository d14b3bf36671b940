import { Counter, Gauge, type Registry } from 'prom-client';
import { ERROR_CODES, INTERNAL_CODE } from '../errors.js';
import { CONDITION_REASONS, CONDITION_TYPES, type PassRecord } from '../reconcile/status.js';
import type { ApiSource } from './api-source.js';

const CONDITION_STATUSES = ['True', 'False', 'Unknown'] as const;
/** Change failure codes: torfleet's own, INTERNAL, and OTHER for a cause's code (EACCES, ...) outside them. */
const FAILURE_CODES: readonly string[] = [...ERROR_CODES, INTERNAL_CODE, 'OTHER'];

export interface ControllerMetrics {
  /** Counts the pass's failed changes by code. */
  observeChangeFailures(record: PassRecord): void;
}

/** How the controller stands: live or not, its status conditions, and the planned changes that failed. */
export function registerControllerMetrics(registry: Registry, source: ApiSource): ControllerMetrics {
  const registers = [registry];
  new Gauge({
    name: 'torfleet_controller_live',
    help: '1 while the controller makes progress, 0 when it cannot (GET /healthz answers 503).',
    registers,
    collect() {
      this.set(source.liveness?.().live === false ? 0 : 1);
    },
  });
  new Gauge({
    name: 'torfleet_reconcile_condition',
    help: '1 for each status condition (Ready, Reconciling, Stalled) at its current status and reason, 0 for every other.',
    labelNames: ['type', 'status', 'reason'],
    registers,
    collect() {
      const current = source.status().conditions;
      for (const type of CONDITION_TYPES) {
        const now = current.find((c) => c.type === type);
        for (const status of CONDITION_STATUSES) {
          for (const reason of CONDITION_REASONS) {
            this.set({ type, status, reason }, now?.status === status && now.reason === reason ? 1 : 0);
          }
        }
      }
    },
  });
  const changeFailures = new Counter({
    name: 'torfleet_change_failures_total',
    help: 'Planned changes that failed to apply, by error code (see GET /status for the message and disposition).',
    labelNames: ['code'],
    registers,
  });
  for (const code of FAILURE_CODES) changeFailures.inc({ code }, 0);
  return {
    observeChangeFailures(record) {
      for (const change of record.changes) {
        if (change.code === undefined) continue;
        changeFailures.inc({ code: FAILURE_CODES.includes(change.code) ? change.code : 'OTHER' });
      }
    },
  };
}
