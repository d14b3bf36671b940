import type Database from 'better-sqlite3';
import type { NodeSource } from './node-source.js';

/** Rows the refresh log keeps: older ones are deleted as new ones come. */
const REFRESH_LOG_ROWS = 1000;

/** One refresh attempt as the `refreshes` table holds it. */
export interface RefreshRecord {
  readonly source: string;
  readonly location: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly outcome: 'updated' | 'not_modified' | 'failed' | 'refused';
  readonly relays: number | null;
  readonly exits: number | null;
  readonly relaysPublished: string | null;
  /** failed: the error; refused: why, in words. */
  readonly error: string | null;
  /** refused: the RefusalReason; else null. */
  readonly reason: string | null;
}

export interface RefreshEntry {
  readonly source: NodeSource;
  readonly started: Date;
  readonly finished: Date;
  readonly outcome: RefreshRecord['outcome'];
  readonly relays?: number | null;
  readonly exits?: number | null;
  readonly relaysPublished?: string | null;
  readonly error?: string | null;
  readonly reason?: string | null;
}

/** Appends `entry` to the refresh log and trims the log to its last REFRESH_LOG_ROWS rows. */
export function logRefresh(db: Database.Database, entry: RefreshEntry): void {
  db.prepare(
    `INSERT INTO refreshes (source, location, started_at, finished_at, outcome, relays, exits, relays_published,
                            error, reason)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    entry.source.name,
    entry.source.location,
    entry.started.toISOString(),
    entry.finished.toISOString(),
    entry.outcome,
    entry.relays ?? null,
    entry.exits ?? null,
    entry.relaysPublished ?? null,
    entry.error ?? null,
    entry.reason ?? null,
  );
  db.prepare('DELETE FROM refreshes WHERE id <= (SELECT max(id) FROM refreshes) - ?').run(REFRESH_LOG_ROWS);
}

/** The last `limit` refreshes, newest first. */
export function readRefreshes(db: Database.Database, limit: number): RefreshRecord[] {
  return db
    .prepare(
      `SELECT source, location, started_at AS startedAt, finished_at AS finishedAt, outcome, relays, exits,
              relays_published AS relaysPublished, error, reason
       FROM refreshes ORDER BY id DESC LIMIT ?`,
    )
    .all(limit) as RefreshRecord[];
}
