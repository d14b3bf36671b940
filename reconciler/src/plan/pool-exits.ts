import { countryInPoolGeo } from '../fleet/geo-match.js';
import type { GeoSelector } from '../fleet/fleet-types.js';

/** The countries a rotating proxy may exit in, for ExitNodes; empty means "any but US" (NON_US) handled by exclusion. */
export function rotatingCountries(geo: GeoSelector, exclude: readonly string[]): string[] {
  if (geo === 'US') return ['US'];
  if (geo === 'NON_US') return [];
  return geo.filter((country) => countryInPoolGeo(country, geo, exclude));
}
