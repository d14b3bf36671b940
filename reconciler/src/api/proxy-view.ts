import type { GeoSelector, PoolMode } from '../fleet/fleet-types.js';
import type { ApiSource } from './api-source.js';
import { geoOfFilter, proxyMatchesGeo } from '../fleet/geo-match.js';
import type { ObservedProxy, Plan, ProxyExits } from '../plan/plan-types.js';
import type { EgressCheck } from '../probe/egress-probe.js';
import type { ProxyHealth } from '../probe/proxy-health.js';

/** `missing`: wanted by the last plan, but no container (or process) runs it. */
export type ProxyState = ObservedProxy['state'] | 'missing';

/** One proxy as `GET /proxies` shows it (the contract's shape). */
export interface ProxyView {
  readonly name: string;
  readonly pool: string;
  readonly geo: GeoSelector;
  readonly mode: PoolMode;
  readonly port: number;
  readonly bind: string;
  readonly state: ProxyState;
  readonly exit: ProxyExits;
  readonly containerId: string | null;
  readonly specHash: string;
  readonly since: string | null;
  /** The swarm node that runs it (its hostname); null on the docker and process runtimes (this host). */
  readonly node: string | null;
  /** Why it does not run, as the runtime says (a pending swarm task: the scheduler's message); else null. */
  readonly reason: string | null;
  /** A packed proxy: the shared tor serving it (`POOL-torK`, its container or process); else null. */
  readonly tor: string | null;
  /** The last egress check through its SOCKS port; null before the first (or with DisableNetwork). */
  readonly egress: EgressCheck | null;
  /** What its tor said on its ControlSocket at the last health check; null before the first. */
  readonly health: ProxyHealth | null;
}

/**
 * The proxies the last plan wants, with what the runtime reports of each. Pure. A proxy whose container
 * still runs an older spec shows that container's hash (it is what runs).
 */
export function proxyViews(
  plan: Plan | null,
  observed: readonly ObservedProxy[],
  egressOf: (proxy: string) => EgressCheck | null = () => null,
  healthOf: (proxy: string, instance: string) => ProxyHealth | null = () => null,
): ProxyView[] {
  if (!plan) return [];
  const byName = new Map(observed.map((proxy) => [proxy.name, proxy]));
  return plan.changes.flatMap((change) => {
    const spec = change.after;
    if (!spec) return [];
    const running = byName.get(spec.name);
    return [
      {
        name: spec.name,
        pool: spec.pool,
        geo: spec.geo,
        mode: spec.mode,
        port: spec.port,
        bind: spec.bind,
        state: running?.state ?? 'missing',
        exit: spec.exits,
        containerId: running?.id ?? null,
        specHash: running?.specHash ?? spec.specHash,
        since: running?.startedAt ?? null,
        node: running?.node ?? null,
        reason: running?.reason ?? null,
        tor: running?.sharedTor ?? spec.packing?.tor ?? null,
        egress: egressOf(spec.name),
        health: running?.state === 'running' ? healthOf(spec.name, running.id) : null,
      },
    ];
  });
}

/** `proxyViews` of the source's last plan over `observed`, with its egress checks and health: what GET /proxies and the readiness gauge show. */
export function sourceProxyViews(
  source: Pick<ApiSource, 'lastPlan' | 'egress' | 'health'>,
  observed: readonly ObservedProxy[],
): ProxyView[] {
  return proxyViews(
    source.lastPlan(),
    observed,
    (p) => source.egress(p),
    (p, instance) => source.health?.(p, instance) ?? null,
  );
}

/** Ready to carry traffic: running, its tor bootstrapped (100%), and its last egress check passed. */
export function proxyReady(view: ProxyView): boolean {
  return view.state === 'running' && view.health?.bootstrap === 100 && view.egress?.result === 'ok';
}

/**
 * `?pool=`, `?geo=` (US, NON_US or a country code, matched by `proxyMatchesGeo`) and `?state=` filters;
 * absent ones match everything.
 */
export function filterProxies(views: readonly ProxyView[], query: URLSearchParams): ProxyView[] {
  const pool = query.get('pool');
  const geoText = query.get('geo');
  const geo = geoText === null ? undefined : geoOfFilter(geoText);
  const state = query.get('state');
  return views.filter(
    (view) =>
      (pool === null || view.pool === pool) &&
      (state === null || view.state === state) &&
      (geo === undefined || proxyMatchesGeo({ geo: view.geo, exitCountries: view.exit.countries }, geo)),
  );
}
