import { rotatingExitCountries } from '../fleet/geo-match.js';
import type { GeoSelector } from '../fleet/fleet-types.js';

/** The countries a rotating proxy may exit in, for ExitNodes; empty means "any but US" (NON_US) handled by exclusion. */
export function rotatingCountries(geo: GeoSelector, exclude: readonly string[]): string[] {
  return rotatingExitCountries(geo, exclude).exitNodes;
}
