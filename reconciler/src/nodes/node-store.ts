import type Database from 'better-sqlite3';
import type { FleetCapacity, GeoSelector } from '../fleet/fleet-types.js';
import { silentLogger, type Logger } from '../logger.js';
import type { EligibleExit } from './eligible-exit.js';
import { inPoolGeo } from '../fleet/geo-match.js';
import { countNetworks, eligibleExitPlaces, eligibleExitRows, type ExitPlace } from './exit-queries.js';
import {
  isDamage,
  openNodeDatabase,
  rebuildNodeDatabase,
  storageError,
  type DatabaseRecovery,
} from './node-db-file.js';
import type { NodeSource, SourceCheckpoint } from './node-source.js';
import { readNodeStats, readStoredSnapshot } from './node-state.js';
import type { NodeStats } from './node-stats.js';
import { readRefreshes, logRefresh, type RefreshRecord } from './refresh-log.js';
import type { NodeSnapshot } from './relay.js';
import type { RefusalReason, SnapshotSummary } from './snapshot-guard.js';
import { writeNotModified, writeRefusal, writeSnapshot } from './snapshot-writes.js';

export type { RefreshRecord } from './refresh-log.js';

export interface NodeStoreOptions {
  /** Where a recovery (a damaged file moved aside) is logged, loudly. */
  readonly log?: Logger;
  readonly now?: () => Date;
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
    return this.use('read', readStoredSnapshot);
  }

  /** Stores `snapshot` as the relay set, in one transaction (see `writeSnapshot`). */
  storeSnapshot(
    source: NodeSource,
    snapshot: NodeSnapshot,
    lastModified: string | null,
    started: Date,
    finished: Date,
  ): void {
    this.use('store the snapshot in', (db) => {
      writeSnapshot(db, source, snapshot, lastModified, started, finished);
    });
  }

  recordNotModified(source: NodeSource, started: Date, finished: Date): void {
    this.use('record the refresh in', (db) => {
      writeNotModified(db, source, started, finished);
    });
  }

  recordFailure(source: NodeSource, started: Date, finished: Date, error: string): void {
    this.use('record the refresh in', (db) => {
      logRefresh(db, { source, started, finished, outcome: 'failed', error });
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
    this.use('record the refresh in', (db) => {
      writeRefusal(db, source, started, finished, incoming, reason, message);
    });
  }

  recentRefreshes(limit: number): RefreshRecord[] {
    return this.use('read', (db) => readRefreshes(db, limit));
  }

  stats(now: Date, maxAgeMs: number): NodeStats {
    return this.use('read', (db) => readNodeStats(db, now, maxAgeMs));
  }

  /** Eligible exits of a geo (running, Exit, not BadExit, country in geo and not excluded), by fingerprint. */
  eligibleExits(geo: GeoSelector, exclude: readonly string[] = []): EligibleExit[] {
    return inPoolGeo(this.allEligibleExits(), geo, exclude);
  }

  /** Every eligible exit of a known country (the planner filters by pool itself), by fingerprint. */
  allEligibleExits(): EligibleExit[] {
    return this.use('read', (db) => eligibleExitRows(db, 'running'));
  }

  /** FleetCapacity: exits of the geo ever known (running or not), i.e. the most any refresh could offer. */
  exitsFor(geo: GeoSelector, exclude: readonly string[]): number {
    return this.exitsEverKnown(geo, exclude).length;
  }

  /** FleetCapacity: /16 groups of the geo's exits ever known. */
  groupsFor(geo: GeoSelector, exclude: readonly string[]): number {
    return countNetworks(this.exitsEverKnown(geo, exclude));
  }

  private exitsEverKnown(geo: GeoSelector, exclude: readonly string[]): ExitPlace[] {
    return inPoolGeo(
      this.use('read', (db) => eligibleExitPlaces(db, 'ever')),
      geo,
      exclude,
    );
  }

  /** True once a refresh has stored relays: before that, capacity checks would reject everything. */
  hasRelays(): boolean {
    return this.use('read', (db) => db.prepare('SELECT 1 FROM relays LIMIT 1').get() !== undefined);
  }
}
