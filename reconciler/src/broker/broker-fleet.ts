import type { GeoSelector, PoolMode } from '../fleet/fleet-types.js';
import { proxyServesGeo } from '../fleet/geo-match.js';
import type { Plan } from '../plan/plan-types.js';
import { proxyDialHost } from '../runtime/proxy-address.js';
import type { RegionChoice } from './region.js';

/** A fleet proxy as the broker leases it: where clients reach it and what it exits in. */
export interface BrokerProxy {
  /** The proxy's name (`POOL-i`): the `proxy_id` of answers and feedback. */
  readonly proxyId: string;
  readonly pool: string;
  /** Its pool's geo and exclude list. */
  readonly geo: GeoSelector;
  readonly exclude: readonly string[];
  /** The countries of its pinned exits, or those a rotating proxy may use (geo-match.ts). */
  readonly exitCountries: readonly string[];
  /** The address clients dial: its bind address, `proxyHost` when it binds every address, or its swarm node's. */
  readonly host: string;
  readonly port: number;
  readonly mode: PoolMode;
  /** The exits it is pinned to (none for a rotating proxy). */
  readonly exitFingerprints: readonly string[];
}

/** What the broker leases from: the fleet's proxies, and the pool and cloud region names a request may use. */
export interface BrokerFleet {
  readonly proxies: readonly BrokerProxy[];
  readonly pools: readonly string[];
  readonly regions: Readonly<Record<string, string>>;
}

const EVERY_ADDRESS = new Set(['0.0.0.0', '::', '']);

/**
 * The proxies of a plan (what the fleet wants now, by name); a proxy bound to every address (`0.0.0.0`, `::`) is
 * offered at `proxyHost` (TORFLEET_BROKER_PROXY_HOST, default 127.0.0.1), any other at its own bind address; one
 * on another swarm node (`nodeAddress`, ProxyLocations) where proxyDialHost dials it: at that node's address.
 */
export function brokerFleetOf(
  plan: Plan,
  pools: readonly string[],
  regions: Readonly<Record<string, string>>,
  proxyHost: string,
  nodeAddress: (proxy: string) => string | null = () => null,
): BrokerFleet {
  const proxies: BrokerProxy[] = [];
  for (const change of plan.changes) {
    const spec = change.after;
    if (!spec) continue;
    const remote = nodeAddress(spec.name);
    proxies.push({
      proxyId: spec.name,
      pool: spec.pool,
      geo: spec.geo,
      exclude: spec.exclude,
      exitCountries: spec.exits.countries,
      host: remote ? proxyDialHost(spec.bind, remote) : EVERY_ADDRESS.has(spec.bind) ? proxyHost : spec.bind,
      port: spec.port,
      mode: spec.mode,
      exitFingerprints: spec.exits.fingerprints,
    });
  }
  proxies.sort((a, b) => (a.proxyId < b.proxyId ? -1 : a.proxyId > b.proxyId ? 1 : 0));
  return { proxies, pools, regions };
}

/** The proxies a resolved region may lease: its pool's, or those whose every possible exit is in its geo (geo-match.ts). */
export function regionCandidates(region: RegionChoice, proxies: readonly BrokerProxy[]): BrokerProxy[] {
  if (region.kind === 'pool') return proxies.filter((proxy) => proxy.pool === region.pool);
  return proxies.filter((proxy) => proxyServesGeo(proxy, proxy.exitCountries, region.geo));
}
