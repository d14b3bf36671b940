import { readFileSync } from 'node:fs';
import { FLEET_SCHEMA_PATH } from '../fleet/fleet-schema-path.js';

let assigned: ReadonlySet<string> | undefined;

/**
 * The assigned ISO 3166-1 alpha-2 codes: the list the fleet schema accepts for `geo` (`$defs.country.enum`),
 * so a relay counts in a country exactly when a pool could name that country.
 */
function assignedCodes(): ReadonlySet<string> {
  if (!assigned) {
    const schema = JSON.parse(readFileSync(FLEET_SCHEMA_PATH, 'utf8')) as {
      $defs?: { country?: { enum?: unknown } };
    };
    const codes = schema.$defs?.country?.enum;
    if (!Array.isArray(codes) || codes.length === 0) {
      throw new Error(`${FLEET_SCHEMA_PATH} has no $defs.country.enum list of country codes`);
    }
    assigned = new Set(codes.filter((code): code is string => typeof code === 'string'));
  }
  return assigned;
}

/**
 * `code` when it is an assigned ISO 3166-1 alpha-2 code (upper case), else null: GeoIP placeholders such as
 * `ZZ` (unknown), `A1` (anonymous proxy), `EU`, `AP` or a garbled `A?` mean "country unknown".
 */
export function assignedCountry(code: string | null): string | null {
  return code !== null && assignedCodes().has(code) ? code : null;
}
