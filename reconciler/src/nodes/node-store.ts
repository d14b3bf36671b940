import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { TorfleetError } from '../errors.js';
import type { FleetCapacity, GeoSelector } from '../fleet/fleet-types.js';
import { groupBySlash16, type EligibleExit, type ExitGroup, type NodeStats } from './eligible-exit.js';
import type { NodeSource, SourceCheckpoint } from './node-source.js';
import { exitIPv4, isBadExit, isExit, network16, type NodeSnapshot } from './relay.js';
import { MIGRATIONS } from './store-migrations.js';

/** How long relays that left the network are kept (for capacity and history). */
const RETENTION_DAYS = 30;
const REFRESH_LOG_ROWS = 1000;

export interface RefreshRecord {
  readonly source: string;
  readonly location: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly outcome: 'updated' | 'not_modified' | 'failed';
  readonly relays: number | null;
  readonly exits: number | null;
  readonly relaysPublished: string | null;
  readonly error: string | null;
}

/** `@kind` US | NON_US | LIST, `@countries` the list (JSON), `@exclude` excluded countries (JSON). */
const GEO_CLAUSE = `
  exit_ipv4 IS NOT NULL AND is_exit = 1 AND is_bad_exit = 0
  AND CASE @kind WHEN 'US' THEN country = 'US'
              WHEN 'NON_US' THEN country IS NOT NULL AND country <> 'US'
              ELSE country IN (SELECT value FROM json_each(@countries)) END
  AND country NOT IN (SELECT value FROM json_each(@exclude))`;

/** The exit-relay database: one SQLite file in WAL mode, one transaction per refresh. */
export class NodeStore implements FleetCapacity {
  private constructor(private readonly db: Database.Database) {}

  /** Opens (creating if needed) the database at `file` and brings its schema up to date. */
  static open(file: string): NodeStore {
    try {
      if (file !== ':memory:') mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
      const db = new Database(file);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('busy_timeout = 5000');
      migrate(db);
      return new NodeStore(db);
    } catch (error) {
      if (error instanceof TorfleetError) throw error;
      throw new TorfleetError('NODE_DB', 'generic', `cannot open the node database ${file} (TORFLEET_DB)`, {
        cause: error,
      });
    }
  }

  close(): void {
    this.db.close();
  }

  checkpoint(source: NodeSource): SourceCheckpoint {
    const row = this.db
      .prepare('SELECT last_modified, relays_published FROM source_state WHERE source = ? AND location = ?')
      .get(source.name, source.location) as
      { last_modified: string | null; relays_published: string | null } | undefined;
    return {
      lastModified: row?.last_modified ?? null,
      relaysPublished: row?.relays_published ? new Date(row.relays_published) : null,
    };
  }

  /**
   * Replaces the relay set with `snapshot` in one transaction: relays it lists are upserted as listed,
   * every other relay is marked not running, and the refresh is logged.
   */
  storeSnapshot(
    source: NodeSource,
    snapshot: NodeSnapshot,
    lastModified: string | null,
    started: Date,
    finished: Date,
  ): void {
    const published = snapshot.relaysPublished.toISOString();
    const upsert = this.db.prepare(`
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
    const retentionCutoff = new Date(finished.getTime() - RETENTION_DAYS * 86_400_000).toISOString();
    this.db.transaction(() => {
      this.db.prepare('UPDATE relays SET running = 0 WHERE running = 1').run();
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
          relay.country,
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
      this.db.prepare('DELETE FROM relays WHERE running = 0 AND last_seen < ?').run(retentionCutoff);
      this.logRefresh(source, started, finished, 'updated', snapshot.relays.length, exits, published, null);
      this.db
        .prepare(
          `INSERT INTO source_state (source, location, last_modified, relays_published) VALUES (?, ?, ?, ?)
           ON CONFLICT (source, location) DO UPDATE SET last_modified = excluded.last_modified,
             relays_published = excluded.relays_published`,
        )
        .run(source.name, source.location, lastModified, published);
    })();
  }

  recordNotModified(source: NodeSource, started: Date, finished: Date): void {
    this.logRefresh(source, started, finished, 'not_modified', null, null, null, null);
  }

  recordFailure(source: NodeSource, started: Date, finished: Date, error: string): void {
    this.logRefresh(source, started, finished, 'failed', null, null, null, error);
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
  ): void {
    this.db
      .prepare(
        `INSERT INTO refreshes (source, location, started_at, finished_at, outcome, relays, exits, relays_published, error)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
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
      );
    this.db.prepare('DELETE FROM refreshes WHERE id <= (SELECT max(id) FROM refreshes) - ?').run(REFRESH_LOG_ROWS);
  }

  recentRefreshes(limit: number): RefreshRecord[] {
    const rows = this.db
      .prepare(
        `SELECT source, location, started_at AS startedAt, finished_at AS finishedAt, outcome, relays, exits,
                relays_published AS relaysPublished, error
         FROM refreshes ORDER BY id DESC LIMIT ?`,
      )
      .all(limit);
    return rows as RefreshRecord[];
  }

  /** Freshness is judged by `relays_published` (when the source's data was made), not by when torfleet fetched it. */
  stats(now: Date, maxAgeMs: number): NodeStats {
    const published = this.db
      .prepare(`SELECT relays_published AS value FROM refreshes WHERE outcome = 'updated' ORDER BY id DESC LIMIT 1`)
      .get() as { value: string } | undefined;
    const refreshed = this.db
      .prepare(`SELECT finished_at AS value FROM refreshes WHERE outcome <> 'failed' ORDER BY id DESC LIMIT 1`)
      .get() as { value: string } | undefined;
    const relays = this.db.prepare('SELECT count(*) AS n FROM relays WHERE running = 1').get() as { n: number };
    const relaysPublished = published?.value ?? null;
    return {
      exits: { US: this.eligibleCount('US'), NON_US: this.eligibleCount('NON_US') },
      relays: relays.n,
      relaysPublished,
      refreshedAt: refreshed?.value ?? null,
      stale: relaysPublished === null || now.getTime() - Date.parse(relaysPublished) > maxAgeMs,
    };
  }

  /** Eligible exits of a geo (running, Exit, not BadExit, country in geo and not excluded), by fingerprint. */
  eligibleExits(geo: GeoSelector, exclude: readonly string[] = []): EligibleExit[] {
    return this.db
      .prepare(
        `SELECT fingerprint, nickname, exit_ipv4 AS address, country, network16 AS network FROM relays
         WHERE running = 1 AND ${GEO_CLAUSE} ORDER BY fingerprint`,
      )
      .all(geoParameters(geo, exclude)) as EligibleExit[];
  }

  /** Every eligible exit of a known country (the planner filters by pool itself), by fingerprint. */
  allEligibleExits(): EligibleExit[] {
    return this.db
      .prepare(
        `SELECT fingerprint, nickname, exit_ipv4 AS address, country, network16 AS network FROM relays
         WHERE running = 1 AND is_exit = 1 AND is_bad_exit = 0 AND exit_ipv4 IS NOT NULL AND country IS NOT NULL
         ORDER BY fingerprint`,
      )
      .all() as EligibleExit[];
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
    const row = this.db
      .prepare(`SELECT count(*) AS n FROM relays WHERE ${GEO_CLAUSE}`)
      .get(geoParameters(geo, exclude)) as {
      n: number;
    };
    return row.n;
  }

  groupsFor(geo: GeoSelector, exclude: readonly string[]): number {
    const row = this.db
      .prepare(`SELECT count(DISTINCT network16) AS n FROM relays WHERE ${GEO_CLAUSE}`)
      .get(geoParameters(geo, exclude)) as { n: number };
    return row.n;
  }

  /** True once a refresh has stored relays: before that, capacity checks would reject everything. */
  hasRelays(): boolean {
    return this.db.prepare('SELECT 1 FROM relays LIMIT 1').get() !== undefined;
  }
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

function migrate(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > MIGRATIONS.length) {
    throw new TorfleetError(
      'NODE_DB',
      'stalled',
      `the node database has schema version ${version}, newer than this torfleet knows (${MIGRATIONS.length}); upgrade torfleet or point TORFLEET_DB at another file`,
    );
  }
  for (let i = version; i < MIGRATIONS.length; i++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[i] ?? '');
      db.pragma(`user_version = ${i + 1}`);
    })();
  }
}
