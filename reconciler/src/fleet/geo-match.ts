import type { GeoCategory, GeoSelector } from './fleet-types.js';

/**
 * The one rule of what a pool's `geo` means, used by the planner (which exits a pool may use), the node
 * store (eligible exits, capacity), the snapshot guard, a rotating proxy's torrc, the metrics' geo category
 * and the API's `?geo=` filter. Pure.
 *
 * A country (an assigned ISO 3166-1 alpha-2 code, upper case; null when unknown) is in a geo when:
 * - `US`: it is US;
 * - `NON_US`: it is known and is not US (an exit of unknown country is in no geo);
 * - a country list: it is in the list.
 */
export function countryInGeo(country: string | null, geo: GeoSelector): boolean {
  if (country === null) return false;
  if (geo === 'US') return country === 'US';
  if (geo === 'NON_US') return country !== 'US';
  return geo.includes(country);
}

/** Whether a pool of `geo` minus `exclude` may exit in `country`: in the geo and not excluded. */
export function countryInPoolGeo(country: string | null, geo: GeoSelector, exclude: readonly string[]): boolean {
  return countryInGeo(country, geo) && country !== null && !exclude.includes(country);
}

/** The items (exits, relays) of `items` a pool of `geo` minus `exclude` may use, in their order. */
export function inPoolGeo<T extends { readonly country: string | null }>(
  items: readonly T[],
  geo: GeoSelector,
  exclude: readonly string[],
): T[] {
  return items.filter((item) => countryInPoolGeo(item.country, geo, exclude));
}

/** `?geo=` as a geo: `US`, `NON_US` (any case), or one country code as a one-country list. */
export function geoOfFilter(text: string): GeoSelector {
  const upper = text.toUpperCase();
  return upper === 'US' || upper === 'NON_US' ? upper : [upper];
}

/** What a proxy is known to exit in, as the `?geo=` filter sees it. */
export interface ProxyGeo {
  /** Its pool's geo. */
  readonly geo: GeoSelector;
  /** The countries of its pinned exits, or the countries a rotating proxy may use (empty: any of its geo). */
  readonly exitCountries: readonly string[];
}

/**
 * The `?geo=` filter in the rule's terms: a proxy matches `filter` when its pool's geo is that very category
 * (`?geo=NON_US` lists every NON_US pool, with or without exits), or a country it names is in `filter`: the
 * pool's country list, else (a US or NON_US pool) the countries of its exits.
 */
export function proxyMatchesGeo(proxy: ProxyGeo, filter: GeoSelector): boolean {
  if (typeof proxy.geo === 'string' && proxy.geo === filter) return true;
  const named = typeof proxy.geo === 'string' ? proxy.exitCountries : proxy.geo;
  return named.some((country) => countryInGeo(country, filter));
}

/** The geo category a pool counts under (metrics, `nodes stats`): a country list is US only if it is exactly [US]. */
export function geoCategoryOf(geo: GeoSelector): GeoCategory {
  if (geo === 'US' || geo === 'NON_US') return geo;
  return geo.length === 1 && geo[0] === 'US' ? 'US' : 'NON_US';
}

/**
 * The rule as tor applies it to a rotating proxy (it picks exits itself): `exitNodes` for ExitNodes (empty:
 * any exit) and `excludeExitNodes` for ExcludeExitNodes. NON_US is "any exit but US and the excluded".
 */
export function rotatingExitCountries(
  geo: GeoSelector,
  exclude: readonly string[],
): { readonly exitNodes: string[]; readonly excludeExitNodes: string[] } {
  if (geo === 'US') return { exitNodes: ['US'], excludeExitNodes: [] };
  if (geo === 'NON_US') return { exitNodes: [], excludeExitNodes: ['US', ...exclude.filter((c) => c !== 'US')] };
  return { exitNodes: geo.filter((country) => countryInPoolGeo(country, geo, exclude)), excludeExitNodes: [] };
}

/**
 * The gateway's geo routes and the broker's regions in the rule's terms: a proxy serves `geo` only when EVERY country it may exit in is
 * in `geo`, so a client that asks for geo-de never leaves in NL. The countries it may exit in are those of its
 * pinned exits when known (`exitCountries`, non-empty), else its pool's: a country list minus exclude, [US]
 * for a US pool, and "any country but US" for a NON_US pool (which therefore serves geo-non_us only). An
 * exit of unknown country serves no geo.
 */
export function proxyServesGeo(
  pool: { readonly geo: GeoSelector; readonly exclude: readonly string[] },
  exitCountries: readonly (string | null)[],
  geo: GeoSelector,
): boolean {
  if (exitCountries.length > 0) return exitCountries.every((country) => countryInGeo(country, geo));
  if (pool.geo === 'US') return countryInGeo('US', geo);
  if (pool.geo === 'NON_US') return geo === 'NON_US';
  const countries = pool.geo.filter((country) => !pool.exclude.includes(country));
  return countries.length > 0 && countries.every((country) => countryInGeo(country, geo));
}
