import Database from 'better-sqlite3';
import type { FleetCapacity, GeoSelector } from '../fleet/fleet-types.js';
import { silentLogger, type Logger } from '../logger.js';
import { assignedCountry } from './country-codes.js';
import {
  groupBySlash16,
  type EligibleExit,
  type ExitGroup,
  type NodeStats,
  type SnapshotRefusal,
} from './eligible-exit.js';
import {
  isDamage,
  openNodeDatabase,
  rebuildNodeDatabase,
  storageError,
  type DatabaseRecovery,
} from './node-db-file.js';
import type { NodeSource, SourceCheckpoint } from './node-source.js';
import { exitIPv4, isBadExit, isExit, network16, type NodeSnapshot } from './relay.js';
import type { RefusalReason, SnapshotSummary } from './snapshot-guard.js';

/** How long relays that left the network are kept (for capacity and history). */
const RETENTION_DAYS = 30;
const REFRESH_LOG_ROWS = 1000;

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

export interface NodeStoreOptions {
  /** Where a recovery (a damaged file moved aside) is logged, loudly. */
  readonly log?: Logger;
  readonly now?: () => Date;
}

/** `@kind` US | NON_US | LIST, `@countries` the list (JSON), `@exclude` excluded countries (JSON). */
const GEO_CLAUSE = `
  exit_ipv4 IS NOT NULL AND is_exit = 1 AND is_bad_exit = 0
  AND CASE @kind WHEN 'US' THEN country = 'US'
              WHEN 'NON_US' THEN country IS NOT NULL AND country <> 'US'
              ELSE country IN (SELECT value FROM json_each(@countries)) END
  AND country NOT IN (SELECT value FROM json_each(@exclude))`;

interface NodeStateRow {
  relays_published: string | null;
  refreshed_at: string | null;
  refused_at: string | null;
  refusal_reason: string | null;
  refusal_message: string | null;
  refused_published: string | null;
}

/**
 * The exit-relay database: one SQLite file in WAL mode, one transaction per refresh. The file is a cache of the
 * node source: found damaged (at open or later), it is moved aside, a fresh one takes its place and the next
 * refresh fills it. Every other storage error is a NODE_DB TorfleetError naming the file.
 */
export class NodeStore implements FleetCapacity {
  private recoveryNote: DatabaseRecovery | null;

  private constructor(
    private db: Database.Database,
    readonly file: string,
    recovery: DatabaseRecovery | null,
    private readonly log: Logger,
    private readonly now: () => Date,
  ) {
    this.recoveryNote = recovery;
  }

  /**
   * Opens (creating if needed) the database at `file` and brings its schema up to date. A damaged file, or an
   * existing 0-byte one, is moved aside to `<file>.corrupt-<timestamp>` and replaced by a fresh one.
   */
  static open(file: string, options: NodeStoreOptions = {}): NodeStore {
    const log = options.log ?? silentLogger;
    const now = options.now ?? (() => new Date());
    const { db, recovery } = openNodeDatabase(file, now, log);
    return new NodeStore(db, file, recovery, log, now);
  }

  /** The damaged file this store moved aside and replaced (at open or since), or null. */
  get recovery(): DatabaseRecovery | null {
    return this.recoveryNote;
  }

  close(): void {
    this.db.close();
  }

  /**
   * Runs `operation`; when the file turns out damaged, moves it aside, starts a fresh one and runs it once more,
   * on the empty database (readers see "never refreshed"; a refresh stores its snapshot as the first one).
   */
  private use<T>(doing: string, operation: (db: Database.Database) => T): T {
    try {
      return operation(this.db);
    } catch (error) {
      if (!isDamage(error) || this.file === ':memory:') throw storageError(this.file, error, doing);
      try {
        this.db.close();
      } catch {
        // A damaged database may fail to close too; it is moved aside either way.
      }
      const rebuilt = rebuildNodeDatabase(this.file, error, this.now, this.log);
      this.db = rebuilt.db;
      this.recoveryNote = rebuilt.recovery;
      try {
        return operation(this.db);
      } catch (again) {
        throw storageError(this.file, again, doing);
      }
    }
  }

  checkpoint(source: NodeSource): SourceCheckpoint {
    const row = this.use('read', (db) =>
      db
        .prepare('SELECT last_modified, relays_published FROM source_state WHERE source = ? AND location = ?')
        .get(source.name, source.location),
    ) as { last_modified: string | null; relays_published: string | null } | undefined;
    return {
      lastModified: row?.last_modified ?? null,
      relaysPublished: row?.relays_published ? new Date(row.relays_published) : null,
    };
  }

  /** The stored snapshot as the snapshot guard sees it; null before the first one. */
  storedSnapshot(): SnapshotSummary | null {
    return this.use('read', () => {
      const state = this.state();
      if (state.relays_published === null) return null;
      const relays = this.db.prepare('SELECT count(*) AS n FROM relays WHERE running = 1').get() as { n: number };
      return {
        relaysPublished: new Date(state.relays_published),
        relays: relays.n,
        exits: { US: this.eligibleCount('US'), NON_US: this.eligibleCount('NON_US') },
      };
    });
  }

  /**
   * Replaces the relay set with `snapshot` in one transaction: relays it lists are upserted as listed,
   * every other relay is marked not running, and the refresh is logged. Countries that are not assigned
   * ISO 3166-1 codes are stored as unknown (NULL).
   */
  storeSnapshot(
    source: NodeSource,
    snapshot: NodeSnapshot,
    lastModified: string | null,
    started: Date,
    finished: Date,
  ): void {
    const published = snapshot.relaysPublished.toISOString();
    const retentionCutoff = new Date(finished.getTime() - RETENTION_DAYS * 86_400_000).toISOString();
    this.use('store the snapshot in', (db) => {
      const upsert = db.prepare(`
      INSERT INTO relays (fingerprint, nickname, or_addresses, exit_addresses, exit_ipv4, network16, country, as_number,
                          flags, is_exit, is_bad_exit, running, exit_policy_summary, first_seen, last_seen)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (fingerprint) DO UPDATE SET
        nickname = excluded.nickname, or_addresses = excluded.or_addresses, exit_addresses = excluded.exit_addresses,
        exit_ipv4 = excluded.exit_ipv4, network16 = excluded.network16, country = excluded.country,
        as_number = excluded.as_number, flags = excluded.flags, is_exit = excluded.is_exit,
        is_bad_exit = excluded.is_bad_exit, running = excluded.running,
        exit_policy_summary = excluded.exit_policy_summary,
        first_seen = min(relays.first_seen, excluded.first_seen), last_seen = excluded.last_seen`);
      db.transaction(() => {
        db.prepare('UPDATE relays SET running = 0 WHERE running = 1').run();
        let exits = 0;
        for (const relay of snapshot.relays) {
          const ipv4 = exitIPv4(relay);
          if (isExit(relay)) exits++;
          upsert.run(
            relay.fingerprint,
            relay.nickname,
            JSON.stringify(relay.orAddresses),
            JSON.stringify(relay.exitAddresses),
            ipv4,
            ipv4 === null ? null : network16(ipv4),
            assignedCountry(relay.country),
            relay.asNumber,
            JSON.stringify(relay.flags),
            isExit(relay) ? 1 : 0,
            isBadExit(relay) ? 1 : 0,
            relay.running ? 1 : 0,
            relay.exitPolicySummary === null ? null : JSON.stringify(relay.exitPolicySummary),
            relay.firstSeen ?? published,
            relay.lastSeen ?? published,
          );
        }
        db.prepare('DELETE FROM relays WHERE running = 0 AND last_seen < ?').run(retentionCutoff);
        this.logRefresh(source, started, finished, 'updated', snapshot.relays.length, exits, published, null, null);
        db.prepare(
          `INSERT INTO source_state (source, location, last_modified, relays_published) VALUES (?, ?, ?, ?)
           ON CONFLICT (source, location) DO UPDATE SET last_modified = excluded.last_modified,
             relays_published = excluded.relays_published`,
        ).run(source.name, source.location, lastModified, published);
        db.prepare(
          `UPDATE node_state SET relays_published = ?, refreshed_at = ?, refused_at = NULL, refusal_reason = NULL,
             refusal_message = NULL, refused_published = NULL`,
        ).run(published, finished.toISOString());
      })();
    });
  }

  recordNotModified(source: NodeSource, started: Date, finished: Date): void {
    this.use('record the refresh in', (db) => {
      db.transaction(() => {
        this.logRefresh(source, started, finished, 'not_modified', null, null, null, null, null);
        db.prepare('UPDATE node_state SET refreshed_at = ?').run(finished.toISOString());
      })();
    });
  }

  recordFailure(source: NodeSource, started: Date, finished: Date, error: string): void {
    this.use('record the refresh in', () => {
      this.logRefresh(source, started, finished, 'failed', null, null, null, error, null);
    });
  }

  /** Logs a refused snapshot and keeps it as the refusal `stats()` reports until a snapshot is stored. */
  recordRefusal(
    source: NodeSource,
    started: Date,
    finished: Date,
    incoming: SnapshotSummary,
    reason: RefusalReason,
    message: string,
  ): void {
    const published = incoming.relaysPublished.toISOString();
    const exits = incoming.exits.US + incoming.exits.NON_US;
    this.use('record the refresh in', (db) => {
      db.transaction(() => {
        this.logRefresh(source, started, finished, 'refused', incoming.relays, exits, published, message, reason);
        db.prepare(
          'UPDATE node_state SET refused_at = ?, refusal_reason = ?, refusal_message = ?, refused_published = ?',
        ).run(finished.toISOString(), reason, message, published);
      })();
    });
  }

  private logRefresh(
    source: NodeSource,
    started: Date,
    finished: Date,
    outcome: RefreshRecord['outcome'],
    relays: number | null,
    exits: number | null,
    relaysPublished: string | null,
    error: string | null,
    reason: string | null,
  ): void {
    this.db
      .prepare(
        `INSERT INTO refreshes (source, location, started_at, finished_at, outcome, relays, exits, relays_published,
                                error, reason)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        source.name,
        source.location,
        started.toISOString(),
        finished.toISOString(),
        outcome,
        relays,
        exits,
        relaysPublished,
        error,
        reason,
      );
    this.db.prepare('DELETE FROM refreshes WHERE id <= (SELECT max(id) FROM refreshes) - ?').run(REFRESH_LOG_ROWS);
  }

  recentRefreshes(limit: number): RefreshRecord[] {
    return this.use('read', (db) =>
      db
        .prepare(
          `SELECT source, location, started_at AS startedAt, finished_at AS finishedAt, outcome, relays, exits,
                relays_published AS relaysPublished, error, reason
         FROM refreshes ORDER BY id DESC LIMIT ?`,
        )
        .all(limit),
    ) as RefreshRecord[];
  }

  /**
   * Freshness is judged by `relays_published` of the stored snapshot (when the source's data was made), not by
   * when torfleet fetched it; it comes from the database's state, never from the (trimmed) refresh log.
   */
  stats(now: Date, maxAgeMs: number): NodeStats {
    return this.use('read', (db) => {
      const state = this.state();
      const relays = db.prepare('SELECT count(*) AS n FROM relays WHERE running = 1').get() as { n: number };
      const relaysPublished = state.relays_published;
      const stats: NodeStats = {
        exits: { US: this.eligibleCount('US'), NON_US: this.eligibleCount('NON_US') },
        relays: relays.n,
        relaysPublished,
        refreshedAt: state.refreshed_at,
        stale: relaysPublished === null || now.getTime() - Date.parse(relaysPublished) > maxAgeMs,
      };
      const refusal = refusalOf(state);
      return refusal === null ? stats : { ...stats, lastRefusal: refusal };
    });
  }

  private state(): NodeStateRow {
    const row = this.db.prepare('SELECT * FROM node_state WHERE id = 1').get() as NodeStateRow | undefined;
    if (row === undefined) {
      this.db.prepare('INSERT INTO node_state (id) VALUES (1)').run();
      return this.state();
    }
    return row;
  }

  /** Eligible exits of a geo (running, Exit, not BadExit, country in geo and not excluded), by fingerprint. */
  eligibleExits(geo: GeoSelector, exclude: readonly string[] = []): EligibleExit[] {
    return this.use('read', (db) =>
      db
        .prepare(
          `SELECT fingerprint, nickname, exit_ipv4 AS address, country, network16 AS network FROM relays
         WHERE running = 1 AND ${GEO_CLAUSE} ORDER BY fingerprint`,
        )
        .all(geoParameters(geo, exclude)),
    ) as EligibleExit[];
  }

  /** Every eligible exit of a known country (the planner filters by pool itself), by fingerprint. */
  allEligibleExits(): EligibleExit[] {
    return this.use('read', (db) =>
      db
        .prepare(
          `SELECT fingerprint, nickname, exit_ipv4 AS address, country, network16 AS network FROM relays
         WHERE running = 1 AND is_exit = 1 AND is_bad_exit = 0 AND exit_ipv4 IS NOT NULL AND country IS NOT NULL
         ORDER BY fingerprint`,
        )
        .all(),
    ) as EligibleExit[];
  }

  /** Eligible exits of a geo grouped by the /16 of their exit address. */
  exitGroups(geo: GeoSelector, exclude: readonly string[] = []): ExitGroup[] {
    return groupBySlash16(this.eligibleExits(geo, exclude));
  }

  private eligibleCount(geo: GeoSelector): number {
    const row = this.db
      .prepare(`SELECT count(*) AS n FROM relays WHERE running = 1 AND ${GEO_CLAUSE}`)
      .get(geoParameters(geo, [])) as { n: number };
    return row.n;
  }

  /** FleetCapacity: exits of the geo ever known (running or not), i.e. the most any refresh could offer. */
  exitsFor(geo: GeoSelector, exclude: readonly string[]): number {
    const row = this.use('read', (db) =>
      db.prepare(`SELECT count(*) AS n FROM relays WHERE ${GEO_CLAUSE}`).get(geoParameters(geo, exclude)),
    ) as { n: number };
    return row.n;
  }

  groupsFor(geo: GeoSelector, exclude: readonly string[]): number {
    const row = this.use('read', (db) =>
      db
        .prepare(`SELECT count(DISTINCT network16) AS n FROM relays WHERE ${GEO_CLAUSE}`)
        .get(geoParameters(geo, exclude)),
    ) as { n: number };
    return row.n;
  }

  /** True once a refresh has stored relays: before that, capacity checks would reject everything. */
  hasRelays(): boolean {
    return this.use('read', (db) => db.prepare('SELECT 1 FROM relays LIMIT 1').get() !== undefined);
  }
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

function geoParameters(
  geo: GeoSelector,
  exclude: readonly string[],
): { kind: string; countries: string; exclude: string } {
  const category = geo === 'US' || geo === 'NON_US';
  return {
    kind: category ? geo : 'LIST',
    countries: JSON.stringify(category ? [] : geo),
    exclude: JSON.stringify(exclude),
  };
}
