import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { TorfleetError } from '../errors.js';
import { assertUsableDbPath } from '../fs/usable-db-path.js';
import type { Logger } from '../logger.js';
import { MIGRATIONS } from './store-migrations.js';

/** A node database found unusable and moved aside; a fresh one took its place. */
export interface DatabaseRecovery {
  /** What was wrong, e.g. "database disk image is malformed". */
  readonly problem: string;
  /** Where the bad file went: `<db>.corrupt-<timestamp>` (with its -wal/-shm beside it). */
  readonly movedTo: string;
}

/** The database holds no schema torfleet wrote: corrupt pages, not SQLite, a table gone. Rebuilt from the source. */
export class DamagedDatabaseError extends Error {
  constructor(readonly problem: string) {
    super(problem);
    this.name = 'DamagedDatabaseError';
  }
}

/** True when `error` says the file's content is unusable (as opposed to the disk, permissions or a lock). */
export function isDamage(error: unknown): boolean {
  if (error instanceof DamagedDatabaseError) return true;
  if (!(error instanceof Database.SqliteError)) return false;
  return (
    error.code.startsWith('SQLITE_CORRUPT') ||
    error.code === 'SQLITE_NOTADB' ||
    (error.code === 'SQLITE_ERROR' && /^no such (table|column|index)/.test(error.message))
  );
}

/** Moves `file` and its -wal/-shm aside to `<file>.corrupt-<timestamp>`; returns the new name of `file`. */
export function moveAside(file: string, now: Date): string {
  const target = `${file}.corrupt-${now.toISOString().replace(/[:.]/g, '-')}`;
  for (const suffix of ['', '-wal', '-shm']) {
    if (existsSync(file + suffix)) renameSync(file + suffix, target + suffix);
  }
  return target;
}

/** Creates the directory holding `file`, with the path in any error (a full disk, a read-only mount). */
export function createParentDirectory(file: string): void {
  try {
    mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  } catch (error) {
    throw storageError(file, error, 'create the directory of');
  }
}

/** A typed NODE_DB error naming the file, what went wrong and what to do. */
export function storageError(file: string, error: unknown, doing = 'use'): TorfleetError {
  if (error instanceof TorfleetError) return error;
  const code = errorCode(error);
  const detail = error instanceof Error ? error.message : String(error);
  const where = `the node database ${file} (TORFLEET_DB)`;
  let message: string;
  if (code === 'SQLITE_FULL' || code === 'ENOSPC') {
    message = `cannot ${doing} ${where}: the disk is full (${detail}); free space on the disk holding ${path.dirname(path.resolve(file))}; the stored snapshot is unchanged`;
  } else if (code.startsWith('SQLITE_READONLY') || code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    message = `cannot ${doing} ${where}: not writable (${detail}); make the file and its directory writable by this user, or point TORFLEET_DB elsewhere`;
  } else if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    message = `cannot ${doing} ${where}: another process holds it locked (${detail}); retry when the other torfleet command has finished`;
  } else if (isDamage(error)) {
    message = `${where} is damaged (${detail}); torfleet moves such a file aside and rebuilds it: run torfleet nodes refresh`;
  } else {
    message = `cannot ${doing} ${where}: ${detail}`;
  }
  return new TorfleetError('NODE_DB', 'generic', message, { cause: error });
}

function errorCode(error: unknown): string {
  if (error instanceof Database.SqliteError) return error.code;
  if (error instanceof Error && 'code' in error && typeof error.code === 'string') return error.code;
  return '';
}

/** The opened database, and the damaged file it replaced if any. */
export interface OpenedNodeDatabase {
  readonly db: Database.Database;
  readonly recovery: DatabaseRecovery | null;
}

/**
 * Opens `file` (after checking its path), migrates and verifies it. A damaged file, or an existing 0-byte one
 * (opening a new database writes its schema at once, so 0 bytes means truncated or not torfleet's), is moved
 * aside and a fresh database takes its place.
 */
export function openNodeDatabase(file: string, now: () => Date, log: Logger): OpenedNodeDatabase {
  if (file === ':memory:') return { db: openVerified(file), recovery: null };
  assertUsableDbPath(file);
  createParentDirectory(file);
  try {
    if (statSync(file, { throwIfNoEntry: false })?.size === 0) {
      throw new DamagedDatabaseError('the file is empty (0 bytes), not a database torfleet wrote');
    }
    return { db: openVerified(file), recovery: null };
  } catch (error) {
    if (!isDamage(error)) throw storageError(file, error, 'open');
    return rebuildNodeDatabase(file, error, now, log);
  }
}

/** Moves the damaged `file` aside, logs it loudly and opens a fresh database in its place. */
export function rebuildNodeDatabase(file: string, damage: unknown, now: () => Date, log: Logger): OpenedNodeDatabase {
  const problem = damage instanceof Error ? damage.message : String(damage);
  let movedTo: string;
  try {
    movedTo = moveAside(file, now());
  } catch (error) {
    throw storageError(file, error, `move aside the damaged (${problem})`);
  }
  log.error('node database damaged: moved it aside and started a fresh one; the next refresh fills it', {
    db: file,
    problem,
    movedTo,
  });
  try {
    return { db: openVerified(file), recovery: { problem, movedTo } };
  } catch (error) {
    throw storageError(file, error, 'recreate');
  }
}

/** The tables a working database has; one missing means the file was damaged or edited by hand. */
const TABLES = ['content_jobs', 'leases', 'node_state', 'refreshes', 'relays', 'source_state'];

function openVerified(file: string): Database.Database {
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    migrate(db, file);
    // quick_check reads every page: corruption shows now, not in the middle of a pass.
    const check = db.pragma('quick_check') as { quick_check: string }[];
    const problems = check.map((row) => row.quick_check).filter((text) => text !== 'ok');
    if (problems.length > 0) throw new DamagedDatabaseError(`database disk image is malformed: ${problems[0] ?? ''}`);
    const present = new Set(
      (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as { name: string }[]).map(
        (row) => row.name,
      ),
    );
    const missing = TABLES.filter((table) => !present.has(table));
    if (missing.length > 0) throw new DamagedDatabaseError(`table ${missing.join(', ')} is missing`);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

function migrate(db: Database.Database, file: string): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > MIGRATIONS.length) {
    throw new TorfleetError(
      'NODE_DB',
      'stalled',
      `the node database ${file} (TORFLEET_DB) has schema version ${version}, newer than this torfleet knows (${MIGRATIONS.length}); upgrade torfleet or point TORFLEET_DB at another file`,
    );
  }
  for (let i = version; i < MIGRATIONS.length; i++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[i] ?? '');
      db.pragma(`user_version = ${i + 1}`);
    })();
  }
}
