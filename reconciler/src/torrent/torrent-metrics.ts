import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { JOB_STATUSES, type JobStatus } from './job-status.js';

/** What the seeder reports, read at scrape. */
export interface SeederCounts {
  readonly activePeers: number;
  readonly bytesUploaded: number;
}

const FETCH_RESULTS = ['ok', 'failed', 'retried', 'cancelled'] as const;
export type FetchResult = (typeof FETCH_RESULTS)[number];

/**
 * The content service's metrics, in a registry of their own appended to `torfleet run`'s /metrics: jobs by status
 * and bytes uploaded / active peers (read at scrape), bytes fetched, fetch durations by result, API calls.
 */
export class TorrentMetrics {
  readonly registry = new Registry();
  readonly #fetched: Counter;
  readonly #duration: Histogram;
  readonly #requests: Counter;

  constructor(counts: () => Readonly<Record<JobStatus, number>>, seeder: () => SeederCounts) {
    const registers = [this.registry];
    new Gauge({
      name: 'torfleet_torrent_jobs',
      help: 'Content jobs in the database, by status.',
      labelNames: ['status'],
      registers,
      collect() {
        const now = counts();
        for (const status of JOB_STATUSES) this.set({ status }, now[status]);
      },
    });
    this.#fetched = new Counter({
      name: 'torfleet_torrent_fetched_bytes_total',
      help: 'Bytes of content received by fetches through gateway routes (failed fetches included).',
      registers,
    });
    let uploaded = 0;
    new Counter({
      name: 'torfleet_torrent_uploaded_bytes_total',
      help: 'Bytes of pieces the seeder sent to BitTorrent peers.',
      registers,
      collect() {
        const total = seeder().bytesUploaded;
        if (total > uploaded) this.inc(total - uploaded);
        uploaded = Math.max(uploaded, total);
      },
    });
    new Gauge({
      name: 'torfleet_torrent_active_peers',
      help: 'BitTorrent peers connected to the seeder now.',
      registers,
      collect() {
        this.set(seeder().activePeers);
      },
    });
    this.#duration = new Histogram({
      name: 'torfleet_torrent_fetch_duration_seconds',
      help: 'Time from the dial to the last byte stored, by result (retried: a transient failure, tried again).',
      labelNames: ['result'],
      buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900],
      registers,
    });
    for (const result of FETCH_RESULTS) this.#duration.zero({ result });
    this.#requests = new Counter({
      name: 'torfleet_torrent_http_requests_total',
      help: 'Calls of the content service API and tracker, by route and HTTP status.',
      labelNames: ['route', 'status'],
      registers,
    });
  }

  fetched(bytes: number): void {
    this.#fetched.inc(bytes);
  }

  fetchDone(seconds: number, result: FetchResult): void {
    this.#duration.observe({ result }, seconds);
  }

  observeRequest(route: string, status: number): void {
    this.#requests.inc({ route, status: String(status) });
  }
}
