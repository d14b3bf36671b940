import type { GeoSelector } from './fleet-types.js';
import { countryInPoolGeo } from './geo-match.js';
import type { RawFleet, RawPool } from './raw-fleet.js';
import { geoOfRouteName, GEO_ROUTE_PREFIX, routeNameClash, SESSION_MARKER, splitProxyName } from './route-names.js';
import type { SemanticContext, SemanticResult } from './semantic-checks.js';

/**
 * Every gateway route name must mean exactly one thing. With a `gateway:` section an ambiguous pool or
 * upstream name is an error; without one (`torfleet gateway` can still serve the fleet) a pool name that is
 * ambiguous today is a warning, and the route table lets the pool win. `gateway.default` must name a route.
 */
export function checkRouteNames(raw: RawFleet, context: SemanticContext, result: SemanticResult): void {
  const { document, origins } = context;
  const strict = raw.gateway !== undefined && raw.gateway !== null;
  const pools = new Map<string, number>(raw.pools.map((pool) => [pool.name, pool.count]));
  raw.pools.forEach((pool, i) => {
    const clash = routeNameClash(pool.name, pools, strict);
    if (!clash) return;
    const path = ['pools', i, 'name'];
    const shown = origins.show(path, pool.name);
    if (strict) {
      result.issues.push(
        document.issueAt(path, `pool name ${shown} is ambiguous as a gateway route: ${clash}; rename the pool`),
      );
    } else {
      result.warnings.push(
        document.issueAt(
          path,
          `pool name ${shown} is ambiguous as a gateway route: ${clash}; torfleet gateway takes it for the pool; rename the pool`,
        ),
      );
    }
  });
  const upstreams = raw.gateway?.upstreams ?? [];
  const firstUpstream = new Map<string, number>();
  upstreams.forEach((upstream, j) => {
    const path = ['gateway', 'upstreams', j, 'name'];
    const shown = origins.show(path, upstream.name);
    const pool = raw.pools.findIndex((p) => p.name === upstream.name);
    const earlier = firstUpstream.get(upstream.name);
    const clash = routeNameClash(upstream.name, pools, true);
    if (pool !== -1) {
      result.issues.push(
        document.issueAt(
          path,
          `upstream name ${shown} is already used by pools[${pool}]; pools and upstreams share one set of route names`,
        ),
      );
    } else if (earlier !== undefined) {
      result.issues.push(
        document.issueAt(path, `upstream name ${shown} is already used by gateway.upstreams[${earlier}]`),
      );
    } else if (clash) {
      result.issues.push(
        document.issueAt(path, `upstream name ${shown} is ambiguous as a route: ${clash}; rename the upstream`),
      );
    }
    if (earlier === undefined) firstUpstream.set(upstream.name, j);
  });
  const route = raw.gateway?.default;
  if (route !== undefined) checkDefault(route, raw.pools, new Set(firstUpstream.keys()), context, result);
}

function checkDefault(
  route: string,
  pools: readonly RawPool[],
  upstreams: ReadonlySet<string>,
  { document, origins }: SemanticContext,
  result: SemanticResult,
): void {
  const path = ['gateway', 'default'];
  const shown = origins.show(path, route);
  const problem = defaultProblem(route, pools, upstreams, origins.show(path, route.toLowerCase()));
  if (problem) {
    result.issues.push(document.issueAt(path, `${shown} ${problem}`));
    return;
  }
  const geo = pools.some((pool) => pool.name === route) ? undefined : geoOfRouteName(route);
  if (geo && !pools.some((pool) => poolMayServe(pool, geo))) {
    result.warnings.push(
      document.issueAt(
        path,
        `no pool of the fleet may exit in the geography of ${shown}, so a client that names no route gets no proxy`,
      ),
    );
  }
}

/** What is wrong with `gateway.default` (to follow the value in the message), or undefined. */
function defaultProblem(
  route: string,
  pools: readonly RawPool[],
  upstreams: ReadonlySet<string>,
  lowerShown: string,
): string | undefined {
  if (route.includes(SESSION_MARKER)) {
    return `holds "${SESSION_MARKER}": default names a route only; a session comes from a client's user name`;
  }
  if (route !== route.toLowerCase()) return `is not in lower case: route names are lower case (write ${lowerShown})`;
  if (pools.some((pool) => pool.name === route) || upstreams.has(route)) return undefined;
  if (route.startsWith(GEO_ROUTE_PREFIX)) {
    return geoOfRouteName(route)
      ? undefined
      : 'is not a geo route: write geo-us, geo-non_us or geo-CC with CC an ISO country code in lower case, such as geo-de';
  }
  const proxy = splitProxyName(route);
  const pool = proxy && pools.find((p) => p.name === proxy.pool);
  if (proxy && pool) {
    if (proxy.index < pool.count) return undefined;
    const has = pool.count === 0 ? 'has no proxies' : `has proxies ${pool.name}-0 to ${pool.name}-${pool.count - 1}`;
    return `names no proxy: pool ${pool.name} ${has}`;
  }
  const known = [...pools.map((p) => p.name), ...upstreams];
  const some = known.length > 0 ? ` (${known.slice(0, 8).join(', ')}${known.length > 8 ? ', …' : ''})` : '';
  return `names no route: write a pool or an upstream${some}, a proxy POOL-i, or geo-us, geo-non_us, geo-CC`;
}

/** Whether any proxy of `pool` could ever exit within `geo` (so a geo route it may serve is not dead). */
function poolMayServe(pool: RawPool, geo: GeoSelector): boolean {
  const exclude = pool.exclude ?? [];
  if (geo === 'US') return countryInPoolGeo('US', pool.geo, exclude);
  if (geo === 'NON_US')
    return (
      pool.geo === 'NON_US' || (Array.isArray(pool.geo) && pool.geo.some((c) => c !== 'US' && !exclude.includes(c)))
    );
  return geo.some((country) => countryInPoolGeo(country, pool.geo, exclude));
}
