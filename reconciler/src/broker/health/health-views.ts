import { ejectionPhase, NOT_EJECTED } from './ejection.js';
import type { BrokerHealthSettings } from './health-settings.js';
import type { PoolHealthView, ProxyHealthView, ProxyStateReason } from './health-snapshot.js';
import type { ProxyRecord } from './proxy-record.js';
import { meanLatencyMs, proxyScore, successRate } from './proxy-score.js';

/** A proxy as the snapshot shows it; a proxy without a record (nothing reported yet) is healthy at score 1. */
export function proxyView(
  proxyId: string,
  pool: string,
  record: ProxyRecord | undefined,
  settings: BrokerHealthSettings,
  now: number,
): ProxyHealthView {
  const ejection = record?.ejection ?? NOT_EJECTED;
  const phase = ejectionPhase(ejection, now);
  const reason: ProxyStateReason | null =
    phase === 'ejected' ? 'cooling_down' : phase === 'trial' ? 'trial' : ejection.heldByCap ? 'pool_cap' : null;
  const latency = record ? meanLatencyMs(record.score) : null;
  return {
    proxyId,
    pool,
    state: phase === 'ejected' ? 'ejected' : reason === null ? 'healthy' : 'degraded',
    reason,
    score: round3(record ? proxyScore(record.score, settings, now) : 1),
    successRate: round3(record ? successRate(record.score, settings, now) : 1),
    latencyMs: latency === null ? null : Math.round(latency),
    faultsInRow: ejection.faultsInRow,
    ejections: ejection.ejections,
    ejectedUntil: phase === 'ejected' ? new Date(ejection.ejectedUntil).toISOString() : null,
    openConnections: record?.open ?? 0,
    counts: { successes: record?.successes ?? 0, faults: record?.faults ?? 0, blocks: record?.blocks ?? 0 },
  };
}

/** A pool (`members`: the views of its proxies) is `degraded` while a proxy of it is held in by the half-pool cap. */
export function poolView(pool: string, members: readonly ProxyHealthView[]): PoolHealthView {
  const heldByCap = members.filter((proxy) => proxy.reason === 'pool_cap').length;
  return {
    pool,
    state: heldByCap > 0 ? 'degraded' : 'healthy',
    proxies: members.length,
    ejected: members.filter((proxy) => proxy.state === 'ejected').length,
    trial: members.filter((proxy) => proxy.reason === 'trial').length,
    heldByCap,
  };
}

export function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}
