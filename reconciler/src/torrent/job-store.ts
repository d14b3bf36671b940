import type Database from 'better-sqlite3';
import { canMove, type JobStatus } from './job-status.js';
import type { JobRequest } from './job-request.js';

/** A content job as stored (times in ms since the epoch). */
export interface ContentJob {
  readonly id: string;
  readonly client: string;
  readonly status: JobStatus;
  readonly url: string;
  readonly method: 'GET' | 'POST';
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | null;
  readonly route: string;
  readonly attempts: number;
  readonly progress: number;
  readonly contentHash: string | null;
  readonly contentSize: number | null;
  readonly contentType: string | null;
  readonly infohash: string | null;
  readonly errorMessage: string | null;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly completedAt: number | null;
  readonly expiresAt: number;
}

/** What a move to a status may record with it. */
export interface JobUpdate {
  readonly progress?: number;
  readonly attempts?: number;
  readonly contentHash?: string;
  readonly contentSize?: number;
  readonly contentType?: string;
  readonly infohash?: string;
  readonly errorMessage?: string | null;
}

interface JobRow {
  id: string;
  client: string;
  status: JobStatus;
  url: string;
  method: 'GET' | 'POST';
  headers: string;
  body: string | null;
  route: string;
  attempts: number;
  progress: number;
  content_hash: string | null;
  content_size: number | null;
  content_type: string | null;
  infohash: string | null;
  error_message: string | null;
  created_at: number;
  updated_at: number;
  completed_at: number | null;
  expires_at: number;
}

/** Statuses in which a job holds its content (a job failed or cancelled has let go of it). */
const HOLDING = "('QUEUED', 'FETCHING', 'PACKAGING', 'SEEDING', 'READY')";

/**
 * Content jobs in the torfleet database (table `content_jobs`), so a restart resumes queued jobs and seeds READY
 * ones again. Every status change goes through `move`, which refuses a move the status machine does not allow
 * (job-status.ts) and compares against the status the caller saw, so two workers never both take one job.
 */
export class JobStore {
  readonly #insert: Database.Statement<JobRow>;
  readonly #get: Database.Statement<[string], JobRow>;
  readonly #byStatus: Database.Statement<[string], JobRow>;
  readonly #move: Database.Statement<Record<string, unknown>>;
  readonly #holders: Database.Statement<[string], { holders: number }>;
  readonly #expired: Database.Statement<[number], JobRow>;
  readonly #progress: Database.Statement<[number, number, string]>;
  readonly #count: Database.Statement<[string], { n: number }>;
  readonly #queued: Database.Statement<[number], JobRow>;
  readonly #unfinished: Database.Statement<[string, number], { n: number }>;

  constructor(db: Database.Database) {
    this.#insert = db.prepare(
      `INSERT INTO content_jobs (id, client, status, url, method, headers, body, route, attempts, progress, content_hash,
         content_size, content_type, infohash, error_message, created_at, updated_at, completed_at, expires_at)
       VALUES (@id, @client, @status, @url, @method, @headers, @body, @route, @attempts, @progress, @content_hash,
         @content_size, @content_type, @infohash, @error_message, @created_at, @updated_at, @completed_at, @expires_at)`,
    );
    this.#get = db.prepare('SELECT * FROM content_jobs WHERE id = ?');
    this.#byStatus = db.prepare('SELECT * FROM content_jobs WHERE status = ? ORDER BY created_at, id');
    this.#move = db.prepare(
      `UPDATE content_jobs SET status = @to, updated_at = @now,
         progress = coalesce(@progress, progress), attempts = coalesce(@attempts, attempts),
         content_hash = coalesce(@content_hash, content_hash), content_size = coalesce(@content_size, content_size),
         content_type = coalesce(@content_type, content_type), infohash = coalesce(@infohash, infohash),
         error_message = CASE WHEN @set_error THEN @error_message ELSE error_message END,
         completed_at = CASE WHEN @to IN ('READY', 'FAILED', 'CANCELLED') THEN coalesce(completed_at, @now) ELSE completed_at END
       WHERE id = @id AND status = @from`,
    );
    this.#progress = db.prepare(
      "UPDATE content_jobs SET progress = ?, updated_at = ? WHERE id = ? AND status = 'FETCHING'",
    );
    this.#queued = db.prepare("SELECT * FROM content_jobs WHERE status = 'QUEUED' ORDER BY created_at, id LIMIT ?");
    // Counted up to `limit` only: a submit's check costs at most the cap's worth of index entries, however long
    // the client's queue.
    this.#unfinished = db.prepare(
      `SELECT count(*) AS n FROM (SELECT 1 FROM content_jobs
         WHERE client = ? AND status IN ('QUEUED', 'FETCHING', 'PACKAGING', 'SEEDING') LIMIT ?)`,
    );
    this.#count = db.prepare('SELECT count(*) AS n FROM content_jobs WHERE status = ?');
    this.#holders = db.prepare(
      `SELECT count(*) AS holders FROM content_jobs WHERE content_hash = ? AND status IN ${HOLDING}`,
    );
    this.#expired = db.prepare(
      `SELECT * FROM content_jobs WHERE expires_at <= ? AND status IN ${HOLDING} ORDER BY expires_at`,
    );
  }

  create(id: string, client: string, request: JobRequest, now: number): ContentJob {
    const row: JobRow = {
      id,
      client,
      status: 'QUEUED',
      url: request.url.href,
      method: request.method,
      headers: JSON.stringify(request.headers),
      body: request.body,
      route: request.route,
      attempts: 0,
      progress: 0,
      content_hash: null,
      content_size: null,
      content_type: null,
      infohash: null,
      error_message: null,
      created_at: now,
      updated_at: now,
      completed_at: null,
      expires_at: now + request.ttlSeconds * 1000,
    };
    this.#insert.run(row);
    return jobOf(row);
  }

  get(id: string): ContentJob | null {
    const row = this.#get.get(id);
    return row ? jobOf(row) : null;
  }

  /** The oldest `limit` QUEUED jobs (a worker's next ones; the index on status and creation makes it cheap). */
  queued(limit: number): ContentJob[] {
    return this.#queued.all(limit).map(jobOf);
  }

  withStatus(status: JobStatus): ContentJob[] {
    return this.#byStatus.all(status).map(jobOf);
  }

  /**
   * Moves a job from `from` to `to`, recording `update`; false when the job is not (any more) in `from`. A move the
   * status machine does not allow is a programming error: it throws.
   */
  move(id: string, from: JobStatus, to: JobStatus, now: number, update: JobUpdate = {}): boolean {
    if (!canMove(from, to)) throw new Error(`content job ${id}: ${from} → ${to} is not a move a job makes`);
    return (
      this.#move.run({
        id,
        from,
        to,
        now,
        progress: update.progress ?? null,
        attempts: update.attempts ?? null,
        content_hash: update.contentHash ?? null,
        content_size: update.contentSize ?? null,
        content_type: update.contentType ?? null,
        infohash: update.infohash ?? null,
        set_error: update.errorMessage === undefined ? 0 : 1,
        error_message: update.errorMessage ?? null,
      }).changes > 0
    );
  }

  /** Bytes fetched so far by a FETCHING job; false when it is not fetching (cancelled meanwhile). */
  progress(id: string, bytes: number, now: number): boolean {
    return this.#progress.run(bytes, now, id).changes > 0;
  }

  /** A client's jobs not yet READY, FAILED or CANCELLED (what its queue cap counts), counted up to `limit`. */
  unfinished(client: string, limit: number): number {
    return this.#unfinished.get(client, limit)?.n ?? 0;
  }

  count(status: JobStatus): number {
    return this.#count.get(status)?.n ?? 0;
  }

  /** How many jobs still hold a content (its file may be freed at 0). */
  holders(contentHash: string): number {
    return this.#holders.get(contentHash)?.holders ?? 0;
  }

  /** Jobs past their `ttl` that still hold their place (to cancel, freeing content no other job shares). */
  expired(now: number): ContentJob[] {
    return this.#expired.all(now).map(jobOf);
  }
}

function jobOf(row: JobRow): ContentJob {
  return {
    id: row.id,
    client: row.client,
    status: row.status,
    url: row.url,
    method: row.method,
    headers: JSON.parse(row.headers) as Record<string, string>,
    body: row.body,
    route: row.route,
    attempts: row.attempts,
    progress: row.progress,
    contentHash: row.content_hash,
    contentSize: row.content_size,
    contentType: row.content_type,
    infohash: row.infohash,
    errorMessage: row.error_message,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    completedAt: row.completed_at,
    expiresAt: row.expires_at,
  };
}
