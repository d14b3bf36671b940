import type { PoolSpec } from '../fleet/fleet-types.js';
import type { NodeStats } from '../nodes/node-stats.js';
import type { ObservedProxy, Plan } from '../plan/plan-types.js';
import type { EgressCheck } from '../probe/egress-probe.js';
import type { ProxyHealth } from '../probe/proxy-health.js';
import type { ControllerStatus, Liveness } from '../reconcile/status.js';
import type { RunnableView } from '../service/supervisor.js';

/** What the read-only API and the metrics read; `run` wires it to the controller, the store and the runtime. */
export interface ApiSource {
  status(): ControllerStatus;
  lastPlan(): Plan | null;
  /** The pools of the fleet last read successfully (for desired counts). */
  fleetPools(): readonly PoolSpec[];
  observed(): Promise<ObservedProxy[]>;
  nodeStats(): NodeStats;
  /** The last egress check of a proxy, if any. */
  egress(proxy: string): EgressCheck | null;
  /** The last health check of this running instance of a proxy (its ControlSocket), if any. */
  health?(proxy: string, instance: string): ProxyHealth | null;
  /** Whether the fleet last read lets its tors use the network (`tor.disableNetwork: false`); absent: no. */
  networkEnabled?(): boolean;
  /** Proxies whose bootstrap is stuck and whose restart budget is spent. */
  outOfRestartBudget?(): number;
  /** Exits set aside after failed egress checks. */
  quarantinedExits(): number;
  /** Objects with invalid torfleet labels the runtime's last listing ignored (logged once each). */
  ignoredObjects?(): number;
  /** Whether the controller can make progress (`/healthz`); absent means always live. */
  liveness?(): Liveness;
  /** The supervisor's runnables (`run`); absent elsewhere. */
  runnables?(): readonly RunnableView[];
  /** Metrics of a part served elsewhere (the gateway's worker thread), in Prometheus text, appended. */
  extraMetrics?(): Promise<string>;
}
