import { pipeline, Transform } from 'node:stream';
import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import { SizeLimitError, type ContentStore, type StoredContent } from './content-store.js';
import { afterRestart, isFinal, type JobStatus } from './job-status.js';
import type { ContentJob, JobStore } from './job-store.js';
import { FetchError, type FetchedResponse, type FetchRequest } from './route-fetch.js';

/** The torrent side of a job: make (or find) a content's torrent and seed it; stop when no job holds it. */
export interface Packaging {
  /** Gives the content's infohash once the seeder serves it. */
  seed(content: { readonly sha256: string; readonly path: string; readonly size: number }): Promise<string>;
  unseed(sha256: string): Promise<void>;
}

export interface JobRunnerOptions {
  readonly store: JobStore;
  readonly content: ContentStore;
  readonly fetch: (request: FetchRequest, signal: AbortSignal) => Promise<FetchedResponse>;
  readonly packaging: Packaging;
  readonly workers: number;
  /** Further attempts after a transient failure. */
  readonly retries: number;
  readonly maxBytes: number;
  readonly now: () => number;
  /** [0, 1): the backoff's jitter. */
  readonly random: () => number;
  readonly log: Logger;
  readonly observe?: {
    readonly fetched?: (bytes: number) => void;
    readonly fetchDone?: (seconds: number, result: 'ok' | 'failed' | 'retried' | 'cancelled') => void;
  };
  /** First retry's delay (doubling each attempt, jittered ±25%). */
  readonly backoffMs?: number;
}

const PROGRESS_EVERY_MS = 250;

/**
 * The content jobs' worker pool. Jobs are taken oldest first, at most `workers` at once; each is moved
 * FETCHING (the response streamed into the content store while hashed, progress recorded) → PACKAGING →
 * SEEDING → READY, or back to QUEUED after a transient failure (while attempts are left; not before its backoff),
 * or FAILED with a readable message. Every move goes through the store, which refuses it if the job moved
 * meanwhile (a DELETE): the worker then stops and lets the content go. `resume()` at start puts jobs a crash
 * caught mid-way back in the queue and seeds READY ones again.
 */
export class JobRunner {
  readonly #options: JobRunnerOptions;
  readonly #running = new Map<string, AbortController>();
  /** Jobs waiting for their retry, and when they may run again. */
  readonly #notBefore = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  readonly #idle = new Set<() => void>();

  constructor(options: JobRunnerOptions) {
    this.#options = options;
  }

  /** After a restart: partial files dropped, jobs caught mid-way queued again, READY (and SEEDING) ones seeded. */
  async resume(): Promise<void> {
    const { store, content, now, log } = this.#options;
    await content.sweep();
    const statuses: JobStatus[] = ['FETCHING', 'PACKAGING', 'SEEDING', 'READY'];
    for (const status of statuses) {
      for (const job of store.withStatus(status)) {
        if (afterRestart(status) === 'requeue') {
          store.move(job.id, status, 'QUEUED', now(), { progress: 0 });
          continue;
        }
        try {
          const infohash = await this.#seed(job);
          if (status === 'SEEDING') store.move(job.id, 'SEEDING', 'READY', now(), { infohash });
        } catch (error) {
          log.warn(`content job ${job.id}: cannot seed its content again: ${errorMessage(error)}`, { job: job.id });
          store.move(job.id, status, 'FAILED', now(), {
            // The cause (it may name files of this host) is in the service's log, not in what clients read.
            errorMessage: 'seeding after a restart failed (the service logged why); submit the job again',
          });
        }
      }
    }
    this.wake();
  }

  /** Takes queued jobs while workers are free (call after a new job, and it calls itself as jobs end). */
  wake(): void {
    if (this.#stopped) return;
    const now = this.#options.now();
    let soonest = Infinity;
    // Enough of the oldest queued jobs to fill the free workers past those waiting for their retry (and those
    // being taken: a job stays QUEUED until its worker moves it): never the whole queue.
    const limit = this.#options.workers + this.#notBefore.size + this.#running.size;
    for (const job of this.#options.store.queued(limit)) {
      if (this.#running.size >= this.#options.workers) break;
      if (this.#running.has(job.id)) continue;
      const due = this.#notBefore.get(job.id) ?? 0;
      if (due > now) {
        soonest = Math.min(soonest, due);
        continue;
      }
      this.#notBefore.delete(job.id);
      this.#start(job);
    }
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (soonest !== Infinity) {
      this.#timer = setTimeout(() => {
        this.wake();
      }, soonest - now);
      this.#timer.unref();
    }
  }

  /**
   * DELETE: a job not yet final is CANCELLED (a fetch under way is stopped, its partial file removed), and its
   * content freed when no other job holds it. Null for an unknown job; a final job is returned as it is.
   */
  async cancel(id: string): Promise<ContentJob | null> {
    const { store, now } = this.#options;
    for (;;) {
      const job = store.get(id);
      if (!job || isFinal(job.status)) return job;
      if (store.move(id, job.status, 'CANCELLED', now(), {})) {
        this.#notBefore.delete(id);
        this.#running.get(id)?.abort(new FetchError('the job was cancelled', false));
        await this.#release(job.contentHash);
        return store.get(id);
      }
    }
  }

  /** Jobs past their `ttl`: cancelled, their content freed when no other job shares it. */
  async expire(): Promise<number> {
    const expired = this.#options.store.expired(this.#options.now());
    for (const job of expired) await this.cancel(job.id);
    return expired.length;
  }

  /** Jobs being worked on now. */
  active(): number {
    return this.#running.size;
  }

  /** Stops taking jobs and aborts those under way (they go back to QUEUED for the next start); resolves when idle. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    for (const controller of this.#running.values()) controller.abort(new FetchError('torfleet is stopping', true));
    if (this.#running.size === 0) return;
    await new Promise<void>((resolve) => this.#idle.add(resolve));
  }

  #start(job: ContentJob): void {
    const controller = new AbortController();
    this.#running.set(job.id, controller);
    void this.#work(job, controller.signal).finally(() => {
      this.#running.delete(job.id);
      if (this.#running.size === 0) for (const resolve of this.#idle) resolve();
      this.wake();
    });
  }

  async #work(job: ContentJob, signal: AbortSignal): Promise<void> {
    const { store, now, log, observe } = this.#options;
    if (!store.move(job.id, 'QUEUED', 'FETCHING', now(), { progress: 0 })) return;
    const started = performance.now();
    let stored: StoredContent & { readonly contentType: string };
    try {
      stored = await this.#fetch(job, signal);
    } catch (error) {
      const seconds = (performance.now() - started) / 1000;
      if (signal.aborted && !this.#stopped) {
        observe?.fetchDone?.(seconds, 'cancelled');
        return;
      }
      observe?.fetchDone?.(seconds, this.#afterFailure(job, error));
      return;
    }
    observe?.fetchDone?.((performance.now() - started) / 1000, 'ok');
    if (stored.size === 0) {
      // A torrent needs a byte; said without the store's path (the packaging's own error names the file).
      store.move(job.id, 'FETCHING', 'FAILED', now(), {
        attempts: job.attempts + 1,
        errorMessage: 'the origin sent an empty body (0 bytes): there is nothing to share as a torrent',
      });
      await this.#release(stored.sha256);
      return;
    }
    const fetched = { contentHash: stored.sha256, contentSize: stored.size, contentType: stored.contentType };
    if (!store.move(job.id, 'FETCHING', 'PACKAGING', now(), { ...fetched, progress: stored.size })) {
      await this.#release(stored.sha256);
      return;
    }
    if (!(await this.#options.content.has(stored.sha256))) {
      // Found stored already, then freed by another job's end before this one held it: fetch again.
      store.move(job.id, 'PACKAGING', 'QUEUED', now(), { progress: 0 });
      return;
    }
    try {
      const infohash = await this.#seed({ ...job, contentHash: stored.sha256, contentSize: stored.size });
      if (!store.move(job.id, 'PACKAGING', 'SEEDING', now(), { infohash })) {
        await this.#release(stored.sha256);
        return;
      }
      store.move(job.id, 'SEEDING', 'READY', now(), {});
      log.info(`content job ${job.id} READY`, { job: job.id, size: stored.size, infohash });
    } catch (error) {
      log.error(`content job ${job.id}: packaging failed: ${errorMessage(error)}`, { job: job.id });
      store.move(job.id, 'PACKAGING', 'FAILED', now(), {
        errorMessage: 'making or seeding the torrent failed (the service logged why); submit the job again',
      });
      await this.#release(stored.sha256);
    }
  }

  /** Streams the response into the store, recording progress; a job moved meanwhile (DELETE) aborts it. */
  async #fetch(job: ContentJob, signal: AbortSignal): Promise<StoredContent & { readonly contentType: string }> {
    const { store, content, now, maxBytes, observe } = this.#options;
    const response = await this.#options.fetch(
      { url: job.url, method: job.method, headers: job.headers, body: job.body, route: job.route, session: job.id },
      signal,
    );
    let bytes = 0;
    let reported = 0;
    const progress = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        bytes += chunk.length;
        observe?.fetched?.(chunk.length);
        const at = now();
        if (at - reported >= PROGRESS_EVERY_MS) {
          reported = at;
          if (!store.progress(job.id, bytes, at)) {
            done(new FetchError('the job was cancelled', false));
            return;
          }
        }
        done(null, chunk);
      },
    });
    // Joined both ways (not `pipe`): the response's end by a reset or a read timeout fails the ingest, and an
    // ingest that fails (limit, cancel) destroys the response, letting the origin's connection go at once.
    const source = pipeline(response.body, progress, () => undefined);
    const stored = await content.ingest(source, maxBytes, signal);
    return { ...stored, contentType: response.contentType };
  }

  /** What a failed fetch becomes: QUEUED again after a backoff (transient, attempts left), else FAILED. */
  #afterFailure(job: ContentJob, error: unknown): 'failed' | 'retried' {
    const { store, now, retries, log, random } = this.#options;
    const message =
      error instanceof SizeLimitError || error instanceof FetchError
        ? error.message
        : `the fetch failed: ${errorMessage(error)}`;
    const transient = error instanceof FetchError ? error.transient : !(error instanceof SizeLimitError);
    const attempts = job.attempts + 1;
    if (transient && attempts <= retries && !this.#stopped) {
      const delay = (this.#options.backoffMs ?? 1000) * 2 ** (attempts - 1) * (0.75 + random() / 2);
      if (store.move(job.id, 'FETCHING', 'QUEUED', now(), { attempts, progress: 0, errorMessage: message })) {
        this.#notBefore.set(job.id, now() + delay);
        log.info(`content job ${job.id}: attempt ${attempts} failed (${message}); again in ${Math.round(delay)} ms`, {
          job: job.id,
        });
      }
      return 'retried';
    }
    if (this.#stopped && transient) {
      store.move(job.id, 'FETCHING', 'QUEUED', now(), { progress: 0 });
      return 'retried';
    }
    store.move(job.id, 'FETCHING', 'FAILED', now(), { attempts, errorMessage: message });
    log.info(`content job ${job.id} FAILED: ${message}`, { job: job.id });
    return 'failed';
  }

  async #seed(job: ContentJob): Promise<string> {
    const { contentHash, contentSize } = job;
    if (contentHash === null || contentSize === null) throw new Error('the job has no content');
    const { content, packaging } = this.#options;
    return packaging.seed({ sha256: contentHash, path: content.pathOf(contentHash), size: contentSize });
  }

  /** Frees a content no job holds any more: unseeded, its files removed. */
  async #release(sha256: string | null): Promise<void> {
    if (sha256 === null || this.#options.store.holders(sha256) > 0) return;
    try {
      await this.#options.packaging.unseed(sha256);
      await this.#options.content.remove(sha256);
    } catch (error) {
      this.#options.log.warn(`content ${sha256}: could not be freed: ${errorMessage(error)}`);
    }
  }
}
