import type { GeoSelector } from '../fleet/fleet-types.js';
import type { EligibleExit } from '../nodes/eligible-exit.js';

/** The exits of `all` a pool may use: country in its geo (US, NON_US = a known country but US, or a list) and not excluded. */
export function exitsForGeo(
  all: readonly EligibleExit[],
  geo: GeoSelector,
  exclude: readonly string[],
): EligibleExit[] {
  const excluded = new Set(exclude);
  const inGeo =
    geo === 'US'
      ? (country: string) => country === 'US'
      : geo === 'NON_US'
        ? (country: string) => country !== 'US'
        : (country: string) => geo.includes(country);
  return all.filter((exit) => inGeo(exit.country) && !excluded.has(exit.country));
}

/** The countries a rotating proxy may exit in, for ExitNodes; empty means "any but US" (NON_US) handled by exclusion. */
export function rotatingCountries(geo: GeoSelector, exclude: readonly string[]): string[] {
  if (geo === 'US') return ['US'];
  if (geo === 'NON_US') return [];
  return geo.filter((country) => !exclude.includes(country));
}
