/** A proxy's state in `GET /api/v1/proxy/health`. */
export type ProxyState = 'healthy' | 'degraded' | 'ejected';

/** Why a proxy is not `healthy`: cooling down after an ejection, on trial after it, or kept in by the pool cap. */
export type ProxyStateReason = 'cooling_down' | 'trial' | 'pool_cap';

export interface ProxyHealthView {
  readonly proxyId: string;
  readonly pool: string;
  readonly state: ProxyState;
  /** null when `healthy`. */
  readonly reason: ProxyStateReason | null;
  /** The health score in [0, 1] (README, Broker: health rules), 3 decimals. */
  readonly score: number;
  /** The decayed success rate in [0, 1], 3 decimals. */
  readonly successRate: number;
  /** The decayed mean latency of successes in whole ms; null before the first timed success. */
  readonly latencyMs: number | null;
  /** Proxy faults since its last success. */
  readonly faultsInRow: number;
  /** Ejections in a row (the next cool-down is 30 s × 2^ejections, at most 10 min). */
  readonly ejections: number;
  /** ISO time the cool-down ends; null unless `ejected`. */
  readonly ejectedUntil: string | null;
  readonly openConnections: number;
  /** Totals since the broker started (or since the proxy was last forgotten). */
  readonly counts: { readonly successes: number; readonly faults: number; readonly blocks: number };
}

export interface PoolHealthView {
  readonly pool: string;
  /** `degraded`: a proxy of it reached the ejection threshold while half the pool was out already. */
  readonly state: 'healthy' | 'degraded';
  readonly proxies: number;
  readonly ejected: number;
  readonly trial: number;
  readonly heldByCap: number;
}

/** The whole picture, pools and proxies each sorted by name. `version` changes when a field changes meaning. */
export interface HealthSnapshot {
  readonly version: 1;
  readonly at: string;
  readonly pools: readonly PoolHealthView[];
  readonly proxies: readonly ProxyHealthView[];
  /** Exchanges whose failures or blocks are remembered now (at most `maxExchanges`). */
  readonly exchanges: number;
}
