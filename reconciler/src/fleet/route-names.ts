import { assignedCountry } from '../nodes/country-codes.js';
import type { GeoSelector } from './fleet-types.js';

/**
 * The gateway's route names: one grammar for the loader (which names it refuses as ambiguous), the route
 * table (which routes exist) and the user name parser. Route names are lower case:
 * - a pool's name, and `POOL-i` for its proxy i (`i` decimal without a leading zero, as plan/ names proxies);
 * - an upstream's name;
 * - `geo-us`, `geo-non_us`, and `geo-CC` for any assigned ISO 3166-1 alpha-2 code CC (`geo-de`).
 * A user name may add `-session-ID`, so no route name may contain `-session-`.
 */
export const GEO_ROUTE_PREFIX = 'geo-';
export const SESSION_MARKER = '-session-';

/** The route of every proxy of `geo`: `geo-us`, `geo-non_us`, `geo-de` (for `['DE']`). */
export function geoRouteName(geo: string): string {
  return `${GEO_ROUTE_PREFIX}${geo.toLowerCase()}`;
}

/** The geo a `geo-…` route name stands for, or undefined (not a geo route, an unknown code, not lower case). */
export function geoOfRouteName(name: string): GeoSelector | undefined {
  if (!name.startsWith(GEO_ROUTE_PREFIX)) return undefined;
  const rest = name.slice(GEO_ROUTE_PREFIX.length);
  if (rest === 'us') return 'US';
  if (rest === 'non_us') return 'NON_US';
  if (!/^[a-z]{2}$/.test(rest)) return undefined;
  const country = assignedCountry(rest.toUpperCase());
  return country === null ? undefined : [country];
}

/** `name` read as proxy `index` of pool `pool` (`us-strict-2` → us-strict, 2), or undefined. */
export function splitProxyName(name: string): { readonly pool: string; readonly index: number } | undefined {
  const match = /^(.+)-(0|[1-9][0-9]{0,5})$/.exec(name);
  return match?.[1] && match[2] ? { pool: match[1], index: Number(match[2]) } : undefined;
}

/**
 * Why `name` (a pool's or an upstream's) could be read as a route other than itself, or undefined.
 * `pools` maps each pool name to its count. `strict` (a fleet with a gateway section) refuses `X-n` for any
 * pool X and any n, so scaling X up can never make a name ambiguous; otherwise only a name that is one of
 * X's proxies today counts.
 */
export function routeNameClash(name: string, pools: ReadonlyMap<string, number>, strict: boolean): string | undefined {
  if (name.startsWith(GEO_ROUTE_PREFIX)) {
    return `names starting with "${GEO_ROUTE_PREFIX}" are the gateway's geo routes (geo-us, geo-de, …)`;
  }
  if (name.includes(SESSION_MARKER)) {
    return `"${SESSION_MARKER}" in a name reads as the session suffix of a proxy user name (ROUTE-session-ID)`;
  }
  const proxy = splitProxyName(name);
  const count = proxy && pools.get(proxy.pool);
  if (proxy && count !== undefined && (strict || proxy.index < count)) {
    return `it reads as proxy ${proxy.index} of pool "${proxy.pool}" (POOL-i names a proxy in a proxy user name)`;
  }
  return undefined;
}
