import type { GeoCategory } from '../fleet/fleet-types.js';
import type { RefusalReason } from './snapshot-guard.js';

/** What the node database holds, as `GET /nodes`, the metrics and `torfleet nodes stats` show it. */
export interface NodeStats {
  /** Eligible exits (running, Exit, not BadExit) by geo category; exits of unknown country count in neither. */
  readonly exits: Readonly<Record<GeoCategory, number>>;
  /** Running relays in the last snapshot. */
  readonly relays: number;
  /** ISO 8601; null before the first successful refresh. */
  readonly relaysPublished: string | null;
  /** ISO 8601 time of the last successful refresh or not-modified check. */
  readonly refreshedAt: string | null;
  /** True when relaysPublished is missing or older than the allowed age. */
  readonly stale: boolean;
  /** The latest snapshot refused since the stored one was accepted; absent when none was. */
  readonly lastRefusal?: SnapshotRefusal;
}

/** A snapshot the guard refused; the stored snapshot stayed as it was. */
export interface SnapshotRefusal {
  /** ISO 8601 time of the refusal. */
  readonly at: string;
  readonly reason: RefusalReason;
  /** Why, in words (lowercase, one line). */
  readonly message: string;
  /** relays_published of the refused snapshot (ISO 8601). */
  readonly relaysPublished: string | null;
}
