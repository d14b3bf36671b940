import type Database from 'better-sqlite3';
import { countByCategory, eligibleExitPlaces } from './exit-queries.js';
import type { NodeStats, SnapshotRefusal } from './node-stats.js';
import type { RefusalReason, SnapshotSummary } from './snapshot-guard.js';

/** The one row of `node_state`: the stored snapshot's time, the last refresh, the latest refusal. */
interface NodeStateRow {
  relays_published: string | null;
  refreshed_at: string | null;
  refused_at: string | null;
  refusal_reason: string | null;
  refusal_message: string | null;
  refused_published: string | null;
}

function readNodeState(db: Database.Database): NodeStateRow {
  const row = db.prepare('SELECT * FROM node_state WHERE id = 1').get() as NodeStateRow | undefined;
  if (row !== undefined) return row;
  db.prepare('INSERT INTO node_state (id) VALUES (1)').run();
  return readNodeState(db);
}

function runningRelays(db: Database.Database): number {
  return (db.prepare('SELECT count(*) AS n FROM relays WHERE running = 1').get() as { n: number }).n;
}

/** The stored snapshot as the snapshot guard sees it; null before the first one. */
export function readStoredSnapshot(db: Database.Database): SnapshotSummary | null {
  const state = readNodeState(db);
  if (state.relays_published === null) return null;
  return {
    relaysPublished: new Date(state.relays_published),
    relays: runningRelays(db),
    exits: countByCategory(eligibleExitPlaces(db, 'running')),
  };
}

/**
 * Freshness is judged by `relays_published` of the stored snapshot (when the source's data was made), not by
 * when torfleet fetched it; it comes from the database's state, never from the (trimmed) refresh log.
 */
export function readNodeStats(db: Database.Database, now: Date, maxAgeMs: number): NodeStats {
  const state = readNodeState(db);
  const relaysPublished = state.relays_published;
  const stats: NodeStats = {
    exits: countByCategory(eligibleExitPlaces(db, 'running')),
    relays: runningRelays(db),
    relaysPublished,
    refreshedAt: state.refreshed_at,
    stale: relaysPublished === null || now.getTime() - Date.parse(relaysPublished) > maxAgeMs,
  };
  const refusal = refusalOf(state);
  return refusal === null ? stats : { ...stats, lastRefusal: refusal };
}

function refusalOf(state: NodeStateRow): SnapshotRefusal | null {
  if (state.refused_at === null) return null;
  return {
    at: state.refused_at,
    reason: (state.refusal_reason ?? 'empty') as RefusalReason,
    message: state.refusal_message ?? '',
    relaysPublished: state.refused_published,
  };
}
