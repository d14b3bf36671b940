import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { GEO_CATEGORIES } from '../fleet/fleet-types.js';
import { geoCategoryOf } from '../fleet/geo-match.js';
import type { Plan, PlanAction } from '../plan/plan-types.js';
import { ERROR_CODES, INTERNAL_CODE } from '../errors.js';
import { CONDITION_REASONS, CONDITION_TYPES, type PassOutcome, type PassRecord } from '../reconcile/status.js';
import { RESTART_REASONS } from '../probe/health-monitor.js';
import type { ApiSource } from './api-source.js';
import { readyCounts } from './proxy-readiness.js';
import { proxyViews } from './proxy-view.js';

const OUTCOMES: readonly PassOutcome[] = ['converged', 'partial', 'stalled', 'failed'];
const ACTIONS: readonly PlanAction[] = ['create', 'replace', 'delete', 'noop'];
const CONDITION_STATUSES = ['True', 'False', 'Unknown'] as const;
/** Change failure codes: torfleet's own, INTERNAL, and OTHER for a cause's code (EACCES, ...) outside them. */
const FAILURE_CODES: readonly string[] = [...ERROR_CODES, INTERNAL_CODE, 'OTHER'];

/**
 * The contract's metrics, in a registry of their own (no module-level singleton). Gauges are read from
 * the source when Prometheus scrapes; counters and histograms are fed by passes and requests. Every label
 * value is initialised at start, so a series exists (at 0) before its first event.
 */
export class TorfleetMetrics {
  readonly registry = new Registry();
  private readonly reconcileTotal: Counter<'result'>;
  private readonly reconcileDuration: Histogram;
  private readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  private readonly egressChecks: Counter<'result'>;
  private readonly proxyRestarts: Counter<'reason'>;
  private readonly httpDuration: Histogram<'method' | 'route'>;
  private readonly changeFailures: Counter<'code'>;

  constructor(source: ApiSource, routes: readonly string[]) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    // prom-client names these gauges *_total, which promtool rejects (a _total suffix means a counter).
    for (const name of [
      'nodejs_active_handles_total',
      'nodejs_active_requests_total',
      'nodejs_active_resources_total',
    ]) {
      this.registry.removeSingleMetric(name);
    }

    new Gauge({
      name: 'torfleet_active_proxy_containers',
      help: 'Proxy containers (or processes) running, by geo category of their pool.',
      labelNames: ['geo_category'],
      registers,
      async collect() {
        const plan = source.lastPlan();
        const observed = await unlessFailing(() => source.observed());
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
        const observed = await unlessFailing(() => source.observed());
        if (!observed) return;
        const views = proxyViews(
          plan,
          observed,
          (p) => source.egress(p),
          (p, instance) => source.health?.(p, instance) ?? null,
        );
        const counts = readyCounts(plan, views);
        for (const category of GEO_CATEGORIES) this.set({ geo_category: category }, counts[category].ready);
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
    new Gauge({
      name: 'torfleet_desired_proxies',
      help: 'Proxies the fleet file asks for, by geo category.',
      labelNames: ['geo_category'],
      registers,
      collect() {
        const pools = source.fleetPools();
        for (const category of GEO_CATEGORIES) {
          this.set(
            { geo_category: category },
            pools.filter((p) => geoCategoryOf(p.geo) === category).reduce((n, p) => n + p.count, 0),
          );
        }
      },
    });
    new Gauge({
      name: 'torfleet_available_tor_exit_nodes',
      help: 'Eligible exit relays (running, Exit, not BadExit) in the node database, by geo category.',
      labelNames: ['geo_category'],
      registers,
      collect() {
        const stats = unlessThrowing(() => source.nodeStats());
        if (!stats) return;
        for (const category of GEO_CATEGORIES) this.set({ geo_category: category }, stats.exits[category]);
      },
    });
    // ISO times of the node database as Unix seconds; 0 before the first refresh.
    const timestamp = (name: string, help: string, read: () => string | null): void => {
      new Gauge({
        name,
        help,
        registers,
        collect() {
          const at = unlessThrowing(read);
          if (at === undefined) return;
          this.set(at ? Date.parse(at) / 1000 : 0);
        },
      });
    };
    timestamp(
      'torfleet_node_refresh_timestamp_seconds',
      'Unix time of the last successful node refresh (or not-modified check); 0 before the first.',
      () => source.nodeStats().refreshedAt,
    );
    timestamp(
      'torfleet_nodes_relays_published_timestamp_seconds',
      "Unix time the node source published the stored relays (Onionoo relays_published, a consensus's valid-after).",
      () => source.nodeStats().relaysPublished,
    );
    new Gauge({
      name: 'torfleet_plan_changes',
      help: 'Changes in the last plan, by action.',
      labelNames: ['action'],
      registers,
      collect() {
        const plan: Plan | null = source.lastPlan();
        for (const action of ACTIONS)
          this.set({ action }, (plan?.changes ?? []).filter((c) => c.action === action).length);
      },
    });
    new Gauge({
      name: 'torfleet_fleet_info',
      help: 'Always 1, labelled with the last applied revision of the fleet.',
      labelNames: ['revision'],
      registers,
      collect() {
        this.reset();
        this.set({ revision: source.status().lastAppliedRevision ?? 'none' }, 1);
      },
    });
    new Gauge({
      name: 'torfleet_quarantined_exits',
      help: 'Exits set aside because proxies pinned to them failed their egress checks.',
      registers,
      collect() {
        this.set(source.quarantinedExits());
      },
    });
    new Gauge({
      name: 'torfleet_node_snapshot_refused',
      help: '1 while the last node snapshot was refused (older, future, empty or dropping too many exits); see GET /nodes.',
      registers,
      collect() {
        let refused = false;
        try {
          refused = source.nodeStats().lastRefusal !== undefined;
        } catch {
          // an unreadable node database is reported by /status and /readyz, not here
        }
        this.set(refused ? 1 : 0);
      },
    });
    new Gauge({
      name: 'torfleet_ignored_runtime_objects',
      help: 'Containers or process records with invalid torfleet labels, ignored by the last runtime listing.',
      registers,
      collect() {
        this.set(source.ignoredObjects?.() ?? 0);
      },
    });
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
    this.changeFailures = new Counter({
      name: 'torfleet_change_failures_total',
      help: 'Planned changes that failed to apply, by error code (see GET /status for the message and disposition).',
      labelNames: ['code'],
      registers,
    });
    for (const code of FAILURE_CODES) this.changeFailures.inc({ code }, 0);
    // The supervisor's runnables: every one is listed from the first scrape (at 0 restarts).
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
    this.egressChecks = new Counter({
      name: 'torfleet_egress_checks_total',
      help: 'Egress checks through the proxies, by result (ok, mismatch, failed).',
      labelNames: ['result'],
      registers,
    });
    for (const result of ['ok', 'mismatch', 'failed']) this.egressChecks.inc({ result }, 0);
    this.proxyRestarts = new Counter({
      name: 'torfleet_proxy_restarts_total',
      help: 'Proxies torfleet restarted, by reason (bootstrap_stalled: no bootstrap progress for TORFLEET_BOOTSTRAP_TIMEOUT).',
      labelNames: ['reason'],
      registers,
    });
    for (const reason of RESTART_REASONS) this.proxyRestarts.inc({ reason }, 0);
    this.reconcileTotal = new Counter({
      name: 'torfleet_reconcile_total',
      help: 'Reconcile passes, by result.',
      labelNames: ['result'],
      registers,
    });
    for (const result of OUTCOMES) this.reconcileTotal.inc({ result }, 0);
    this.reconcileDuration = new Histogram({
      name: 'torfleet_reconcile_duration_seconds',
      help: 'Duration of reconcile passes.',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.httpRequests = new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests to the API, by method, route template and status.',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.httpDuration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'Duration of HTTP requests to the API, by method and route template.',
      labelNames: ['method', 'route'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    for (const route of routes) {
      this.httpRequests.inc({ method: 'GET', route, status: '200' }, 0);
      this.httpDuration.zero({ method: 'GET', route });
    }
  }

  observePass(record: PassRecord): void {
    this.reconcileTotal.inc({ result: record.outcome });
    this.reconcileDuration.observe(record.durationMs / 1000);
    for (const change of record.changes) {
      if (change.code === undefined) continue;
      this.changeFailures.inc({ code: FAILURE_CODES.includes(change.code) ? change.code : 'OTHER' });
    }
  }

  observeEgress(result: string): void {
    this.egressChecks.inc({ result });
  }

  observeRestart(reason: string): void {
    this.proxyRestarts.inc({ reason });
  }

  observeRequest(method: string, route: string, status: number, seconds: number): void {
    this.httpRequests.inc({ method, route, status: String(status) });
    this.httpDuration.observe({ method, route }, seconds);
  }
}

/**
 * A scrape must not fail because one source cannot be read (a corrupt node database, Docker away): that
 * gauge keeps its last value, the reason shows in /status and /healthz.
 */
function unlessThrowing<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

async function unlessFailing<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch {
    return undefined;
  }
}
