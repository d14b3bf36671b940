import type Database from 'better-sqlite3';
import { GEO_CATEGORIES, type GeoCategory } from '../fleet/fleet-types.js';
import { countryInGeo } from '../fleet/geo-match.js';
import type { EligibleExit } from './eligible-exit.js';

/** Eligible as an exit, whatever the geo: flag Exit, not BadExit, a usable IPv4 exit address, a known country. */
const ELIGIBLE = 'is_exit = 1 AND is_bad_exit = 0 AND exit_ipv4 IS NOT NULL AND country IS NOT NULL';

/**
 * Which relays: `running` ones (eligible now) or every one `ever` known (capacity: the most any refresh could
 * offer, relays kept for the retention period included).
 */
export type ExitScope = 'running' | 'ever';

/**
 * The eligible exits of a scope, by fingerprint: flag Exit, not BadExit, a usable IPv4 exit address (NULL when
 * unusable) and a known country (NULL when unassigned). Which of them a geo takes is decided in TypeScript by
 * the one geo rule (`fleet/geo-match.ts`), not in SQL: a public consensus has ~1,500 exits.
 */
export function eligibleExitRows(db: Database.Database, scope: ExitScope): EligibleExit[] {
  return db
    .prepare(
      `SELECT fingerprint, nickname, exit_ipv4 AS address, country, network16 AS network FROM relays
       WHERE ${ELIGIBLE} ${scope === 'running' ? 'AND running = 1' : ''} ORDER BY fingerprint`,
    )
    .all() as EligibleExit[];
}

/** Where an exit is and which /16 it is in: all that counts (capacity, stats) need of it. */
export interface ExitPlace {
  readonly country: string;
  readonly network: string;
}

/** The countries and /16s of the eligible exits of a scope (the same rows as `eligibleExitRows`). */
export function eligibleExitPlaces(db: Database.Database, scope: ExitScope): ExitPlace[] {
  return db
    .prepare(
      `SELECT country, network16 AS network FROM relays WHERE ${ELIGIBLE} ${scope === 'running' ? 'AND running = 1' : ''}`,
    )
    .all() as ExitPlace[];
}

/** How many of `exits` fall in each geo category. */
export function countByCategory(exits: readonly ExitPlace[]): Record<GeoCategory, number> {
  const counts: Record<GeoCategory, number> = { US: 0, NON_US: 0 };
  for (const category of GEO_CATEGORIES) {
    counts[category] = exits.filter((exit) => countryInGeo(exit.country, category)).length;
  }
  return counts;
}

/** How many distinct /16 networks `exits` span. */
export function countNetworks(exits: readonly ExitPlace[]): number {
  return new Set(exits.map((exit) => exit.network)).size;
}
