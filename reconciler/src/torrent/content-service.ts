import type { Server } from 'node:http';
import type Database from 'better-sqlite3';
import type { ClientTokens } from '../broker/client-tokens.js';
import { ConfigError, errorMessage } from '../errors.js';
import type { MemberHealthView } from '../gateway/dial-types.js';
import { createFleetDialer, DEFAULT_MAX_ATTEMPTS } from '../gateway/fleet-dialer.js';
import type { RouteTable } from '../gateway/route-types.js';
import type { Logger } from '../logger.js';
import { ContentStore } from './content-store.js';
import { SignatureVerifier } from './hmac-auth.js';
import { JobRunner } from './job-runner.js';
import { JobStore } from './job-store.js';
import { fetchThroughRoute } from './route-fetch.js';
import { Seeder } from './seeder.js';
import { createTorrentServer, jobCounts } from './torrent-http.js';
import { TorrentMetrics } from './torrent-metrics.js';
import { TorrentPackaging } from './torrent-packaging.js';
import type { TorrentSettings } from './torrent-settings.js';
import { Tracker } from './tracker.js';

/** Redirects a fetch follows at most (each through the same route). */
export const MAX_REDIRECTS = 5;
const EXPIRE_EVERY_MS = 30_000;

export interface ContentServiceOptions {
  readonly settings: TorrentSettings;
  /** `data/content` under the state directory. */
  readonly contentRoot: string;
  /** The gateway's routes now (they follow the fleet); null before the first fleet. */
  readonly routes: () => RouteTable | null;
  /** Which route members the runtime and egress checks say to skip. */
  readonly health: MemberHealthView;
  /** Bearer clients now, or null (signatures only). */
  readonly tokens: () => ClientTokens | null;
  readonly now: () => number;
  readonly random: () => number;
  readonly log: Logger;
  /** Certificates the fetches trust besides Node's (tests). */
  readonly ca?: readonly Buffer[];
  /** First retry's delay (tests shorten it). */
  readonly backoffMs?: number;
}

/** A started content service: its listener, seeder and workers; `stop` ends them (jobs under way are queued again). */
export interface ContentService {
  readonly server: Server;
  readonly seederPort: number;
  /** Cancels jobs past their `ttl` now (it also runs every 30 s); how many. */
  expire(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * The content jobs service's parts that outlive one run of it: the job store and the metrics (the metrics read
 * the running seeder, whichever run it is).
 */
export class ContentServiceParts {
  readonly store: JobStore;
  readonly metrics: TorrentMetrics;
  #seeder: Seeder | null = null;

  readonly #db: Database.Database;

  /** `db`: a connection of its own to the torfleet database (table content_jobs); `close` closes it. */
  constructor(db: Database.Database) {
    this.#db = db;
    this.store = new JobStore(db);
    this.metrics = new TorrentMetrics(
      () => jobCounts(this.store),
      () => this.#seeder?.stats() ?? { activePeers: 0, bytesUploaded: 0 },
    );
  }

  close(): void {
    this.#db.close();
  }

  /**
   * Starts the seeder (TORFLEET_TORRENT_PEER_PORT), resumes the jobs a previous run left (partial files dropped,
   * READY contents seeded again), and builds the API server (not listening yet: the caller listens).
   */
  async start(options: ContentServiceOptions): Promise<ContentService> {
    const { settings, log, now } = options;
    const seeder = new Seeder({
      host: settings.listen.host,
      port: settings.peerPort,
      maxPeers: settings.maxPeers,
      uploadRateBytesPerSecond: settings.uploadBytesPerSecond,
      onPeerClosed: (event) => {
        log.debug('seeder peer closed', { peer: event.remote, infohash: event.infoHash, reason: event.reason });
      },
    });
    const { port: seederPort } = await seeder.listen().catch((error: unknown) => {
      throw new ConfigError(
        `the seeder cannot listen on ${settings.listen.host}:${String(settings.peerPort)} (TORFLEET_TORRENT_PEER_PORT): ${errorMessage(error)}`,
      );
    });
    this.#seeder = seeder;
    const host = settings.publicHost.includes(':') ? `[${settings.publicHost}]` : settings.publicHost;
    // The tracker answers only for torrents the packaging serves.
    const tracker: Tracker = new Tracker({ isKnown: (infoHash): boolean => packaging.knows(infoHash) });
    const packaging: TorrentPackaging = new TorrentPackaging({
      seeder,
      tracker,
      announceUrl: `http://${host}:${String(settings.listen.port)}/announce`,
      seederHost: settings.publicHost,
      seederPort,
    });
    const dialer = createFleetDialer({
      health: options.health,
      now,
      random: options.random,
      connectTimeoutMs: settings.connectTimeoutMs,
      maxAttempts: DEFAULT_MAX_ATTEMPTS,
      log,
    });
    const fetchOptions = {
      dialer,
      routes: options.routes,
      connectTimeoutMs: settings.connectTimeoutMs,
      readTimeoutMs: settings.readTimeoutMs,
      maxRedirects: MAX_REDIRECTS,
      mimeAllowlist: settings.mimeAllowlist,
      maxBytes: settings.maxBytes,
      ...(options.ca ? { ca: options.ca } : {}),
    };
    const runner = new JobRunner({
      store: this.store,
      content: new ContentStore(options.contentRoot),
      fetch: (request, signal) => fetchThroughRoute(fetchOptions, request, signal),
      packaging,
      workers: settings.workers,
      retries: settings.retries,
      maxBytes: settings.maxBytes,
      now,
      random: options.random,
      log,
      observe: {
        fetched: (bytes) => {
          this.metrics.fetched(bytes);
        },
        fetchDone: (seconds, result) => {
          this.metrics.fetchDone(seconds, result);
        },
      },
      ...(options.backoffMs === undefined ? {} : { backoffMs: options.backoffMs }),
    });
    try {
      await runner.resume();
    } catch (error) {
      await seeder.close();
      throw error;
    }
    const server = createTorrentServer({
      store: this.store,
      runner,
      torrents: packaging,
      verifier: new SignatureVerifier(settings.secret, () => Math.floor(now() / 1000)),
      tokens: options.tokens,
      tracker: tracker.handle,
      health: () => ({
        status: 'ok',
        jobs: jobCounts(this.store),
        working: runner.active(),
        seeder: seeder.stats(),
      }),
      rate: settings.rate,
      maxUnfinished: settings.maxUnfinished,
      now,
      log,
      observeRequest: (route, status) => {
        this.metrics.observeRequest(route, status);
      },
    });
    const expiry = setInterval(() => {
      runner.expire().catch((error: unknown) => {
        log.warn(`content jobs: expiry failed: ${errorMessage(error)}`);
      });
    }, EXPIRE_EVERY_MS);
    expiry.unref();
    return {
      server,
      seederPort,
      expire: () => runner.expire(),
      stop: async () => {
        clearInterval(expiry);
        await runner.stop();
        await seeder.close();
      },
    };
  }
}
