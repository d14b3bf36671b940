import { DEFAULT_GATEWAY_LISTEN, type Fleet, type PoolSpec } from '../fleet/fleet-types.js';
import { proxyServesGeo } from '../fleet/geo-match.js';
import { parseEndpoint } from '../fleet/ip-address.js';
import { geoOfRouteName, geoRouteName } from '../fleet/route-names.js';
import { assignedCountry } from '../nodes/country-codes.js';
import { proxyName } from '../plan/assign-exits.js';
import { proxyDialHost } from '../runtime/proxy-address.js';
import type { GatewayInput } from './gateway-input.js';
import type { CorporateHop, Route, RouteTable, TorMember, UpstreamMember } from './route-types.js';

/** What of a fleet the routes come from. */
export type FleetRoutes = Pick<Fleet, 'pools' | 'gateway'>;

export interface RouteTableOptions {
  /** False for `--no-corporate`: the table carries no corporate hop even when the fleet names one. */
  readonly corporate: boolean;
  /**
   * The countries proxy `name`'s pinned exits are in, when known (inside `torfleet run`); empty or absent:
   * unknown, and the proxy counts by its pool's geo alone (see proxyServesGeo).
   */
  readonly exitCountries?: ((name: string) => readonly string[]) | undefined;
  /** The node address of proxy `name` when it runs on another swarm node (proxyDialHost); absent: this host. */
  readonly nodeAddress?: ((name: string) => string | null) | undefined;
}

interface TorProxy {
  readonly member: TorMember;
  readonly pool: PoolSpec;
  /** Assigned codes of its exits; null for a code that is not one (an exit of unknown country). */
  readonly countries: readonly (string | null)[];
}

/**
 * The routes of a fleet (route-names.ts has the grammar), built purely from it:
 * - each pool: its proxies `POOL-0`…, as tor members at `bind:basePort+i` (where proxyDialHost says: a wildcard
 *   bind on loopback of its family, a proxy on another swarm node at that node); each proxy `POOL-i`: that one member;
 * - each upstream: one member;
 * - `geo-us`, `geo-non_us`, `geo-CC` (any assigned country code): the proxies of every pool that serve that
 *   geography by proxyServesGeo: EVERY country the proxy may exit in lies within it. Without exit knowledge a
 *   NON_US pool serves geo-non_us only, a [DE, NL] pool serves geo-non_us but neither geo-de nor geo-nl, and
 *   a [DE] pool serves geo-de; with it, a NON_US or [DE, NL] proxy whose exits are all in DE serves geo-de.
 * A fleet without a `gateway` section still has a table: no upstreams, no default, no token, no corporate.
 * Names are unique by the loader's checks when the fleet has a gateway section; in a fleet without one, a
 * pool whose name is also a proxy's or a geo route's (the loader warns) takes the name.
 */
export function buildRouteTable(fleet: FleetRoutes, options: RouteTableOptions): RouteTable {
  const byPool = fleet.pools.map((pool) => torProxies(pool, options));
  const proxies = byPool.flat();
  const routes = new Map<string, Route>();
  const add = (route: Route): void => {
    routes.set(route.name, route);
  };
  for (const proxy of proxies) add({ name: proxy.member.id, kind: 'proxy', members: [proxy.member] });
  const upstreams = (fleet.gateway?.upstreams ?? []).map((u): UpstreamMember => ({
    kind: 'upstream',
    id: u.name,
    protocol: u.protocol,
    host: u.host,
    port: u.port,
    auth: u.auth,
  }));
  for (const member of upstreams) add({ name: member.id, kind: 'upstream', members: [member] });
  fleet.pools.forEach((pool, i) => {
    add({ name: pool.name, kind: 'pool', members: (byPool[i] ?? []).map((p) => p.member) });
  });

  const geoRoutes = new Map<string, Route | undefined>();
  const geoRoute = (name: string): Route | undefined => {
    if (!geoRoutes.has(name)) {
      const geo = geoOfRouteName(name);
      const members = geo && proxies.filter((p) => proxyServesGeo(p.pool, p.countries, geo)).map((p) => p.member);
      geoRoutes.set(name, members && { name, kind: 'geo', members });
    }
    return geoRoutes.get(name);
  };

  const names = [
    ...fleet.pools.flatMap((pool, i) => [pool.name, ...(byPool[i] ?? []).map((p) => p.member.id)]),
    ...upstreams.map((member) => member.id),
    ...geoNamesOf(fleet.pools, proxies),
  ];
  const listed = [...new Set(names)];
  const corporate = fleet.gateway?.corporate ?? null;
  return {
    lookup: (name) => routes.get(name) ?? geoRoute(name),
    names: () => listed,
    defaultRoute: fleet.gateway?.default ?? null,
    token: fleet.gateway?.token ?? null,
    corporate: options.corporate && corporate ? ({ ...corporate } satisfies CorporateHop) : null,
  };
}

function torProxies(pool: PoolSpec, options: RouteTableOptions): TorProxy[] {
  return Array.from({ length: pool.count }, (_, i) => {
    const id = proxyName(pool.name, i);
    const host = proxyDialHost(pool.bind, options.nodeAddress?.(id));
    const countries = (options.exitCountries?.(id) ?? []).map((code) => assignedCountry(code));
    return { member: { kind: 'tor', id, pool: pool.name, host, port: pool.basePort + i }, pool, countries };
  });
}

/** The route table of a gateway input: its fleet, `--no-corporate`, and what `run` knows of exits and nodes. */
export function tableOf(input: GatewayInput): RouteTable {
  return buildRouteTable(input, {
    corporate: input.corporate,
    exitCountries: (proxy) => input.exitCountries[proxy] ?? [],
    nodeAddress: (proxy) => input.nodeAddresses[proxy] ?? null,
  });
}

/** geo-us, geo-non_us, then geo-CC for every country a pool names or a proxy is known to exit in, sorted. */
function geoNamesOf(pools: readonly PoolSpec[], proxies: readonly TorProxy[]): string[] {
  const countries = new Set<string>();
  for (const pool of pools) {
    if (pool.count === 0 || typeof pool.geo === 'string') continue;
    for (const country of pool.geo) if (!pool.exclude.includes(country)) countries.add(country);
  }
  for (const proxy of proxies) for (const country of proxy.countries) if (country !== null) countries.add(country);
  countries.delete('US');
  return [geoRouteName('US'), geoRouteName('NON_US'), ...[...countries].sort().map(geoRouteName)];
}

/** Where the gateway of `fleet` listens: its `gateway.listen`, or 127.0.0.1:8888 for a fleet without the section. */
export function gatewayListen(fleet: FleetRoutes): { readonly host: string; readonly port: number } {
  if (fleet.gateway) return fleet.gateway.listen;
  const listen = parseEndpoint(DEFAULT_GATEWAY_LISTEN);
  if (!listen) throw new Error(`DEFAULT_GATEWAY_LISTEN ${DEFAULT_GATEWAY_LISTEN} is not IP:PORT`);
  return { host: listen.address, port: listen.port };
}
