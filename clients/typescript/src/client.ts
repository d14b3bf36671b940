import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { gzipSync } from 'node:zlib';
import { AnswerCache, cacheKey, type CacheEntry } from './cache.js';
import type { BreakerSettings } from './breaker.js';
import { copyError, NoProxyError, ServiceUnavailableError } from './errors.js';
import { EmbeddedFallback } from './fallback.js';
import type { FeedbackEvent, WireFeedbackEvent } from './feedback-buffer.js';
import { FeedbackSender } from './feedback-sender.js';
import { embeddedLease, leaseOf, withSource, type Lease, type ProxyAnswer, type RequestArgs } from './lease.js';
import { DEFAULTS, type ClientOptions } from './options.js';
import { callService } from './service-calls.js';
import { newCounters, type ClientStats, type Counters } from './stats.js';
import { exchange, PATHS, type Answer } from './transport.js';
import { WatchedSettings } from './settings.js';

/** What the cache holds for a key: a lease to give, or a NoProxyError to raise (a `fail` answer). */
type Cached = Lease | NoProxyError;

/** Options of call(): one exchange, nothing else. */
export interface CallOptions {
  /** Sent as JSON (content-type application/json). */
  readonly body?: unknown;
  /** Sent as it is (over `body`). */
  readonly text?: string | Buffer;
  /** The bearer token: the client's own when undefined, none when null. */
  readonly token?: string | null;
  readonly headers?: Readonly<Record<string, string>>;
  readonly gzip?: boolean;
  /** Which endpoint (index in the current list). */
  readonly endpoint?: number;
  /** False: no X-Request-Id of the client's own (one in `headers` is still sent). */
  readonly correlation?: boolean;
}

/**
 * The broker client (clients/PROTOCOL.md; README.md for what it does where the protocol is silent). One for the
 * whole process. A cached request() answers from memory, in a resolved promise, without I/O.
 */
export class ProxyServiceClient {
  readonly #counters: Counters = newCounters();
  readonly #cache: AnswerCache<Cached>;
  readonly #flights = new Map<string, Promise<Cached>>();
  readonly #fallback: EmbeddedFallback;
  readonly #feedback: FeedbackSender;
  readonly #timeoutMs: number;
  readonly #staleMs: number;
  readonly #maxAnswerBytes: number;
  readonly #clientId: string | undefined;
  readonly #idPrefix = `ts-${randomBytes(4).toString('hex')}-`;
  #ids = 0;
  readonly #settings: WatchedSettings;
  #closed = false;
  #closing: Promise<void> | null = null;

  constructor(options: ClientOptions = {}) {
    const setting = (name: keyof typeof DEFAULTS): number => options[name] ?? DEFAULTS[name];
    this.#timeoutMs = setting('timeout') * 1000;
    this.#staleMs = setting('staleSeconds') * 1000;
    this.#maxAnswerBytes = setting('maxAnswerBytes');
    const breaker: BreakerSettings = {
      threshold: setting('failureThreshold'),
      baseMs: setting('breakerBaseSeconds') * 1000,
      maxMs: setting('breakerMaxSeconds') * 1000,
    };
    this.#clientId = options.clientId;
    this.#cache = new AnswerCache(setting('maxCacheEntries'));

    this.#settings = new WatchedSettings(options, breaker, this.#counters);
    this.#fallback = new EmbeddedFallback(options.fallback);

    this.#feedback = new FeedbackSender({
      capacity: setting('feedbackBuffer'),
      intervalMs: setting('feedbackInterval') * 1000,
      timeoutMs: setting('feedbackTimeout') * 1000,
      clientId: this.#clientId,
      counters: this.#counters,
      send: (payload, deadline, gzip) => this.#call('POST', PATHS.feedback, payload, deadline, null, gzip),
    });
    this.#settings.watch(setting('watchInterval') * 1000);
  }

  /**
   * A proxy for (exchange, connection type, region): from the cache (fresh, or stale while one refresh runs in the
   * background), the service, or the embedded fallback when no endpoint answers within `timeout`. Rejects with
   * NoProxyError (policy `fail`, or nothing to fall back on), ServiceUnavailableError (its subclass: no endpoint
   * answered and no fallback for the region) or BrokerError (the service refused the call).
   */
  request(args: RequestArgs): Promise<Lease> {
    this.#counters.requests += 1;
    const key = cacheKey(args.exchangeId, args.connectionType, args.region);
    const entry = this.#cache.get(key);
    if (entry !== undefined) {
      const now = performance.now();
      if (now < entry.freshUntil) {
        this.#counters.cacheHits += 1;
        return (entry.freshPromise as Promise<Lease> | null) ?? Promise.reject(copyError(entry.fresh as NoProxyError));
      }
      if (now < entry.staleUntil) {
        if (!entry.refreshing && now >= entry.retryAt) this.#refresh(key, entry, args);
        this.#counters.staleServed += 1;
        return (entry.stalePromise as Promise<Lease> | null) ?? Promise.reject(copyError(entry.stale as NoProxyError));
      }
    }
    if (this.#closed) return Promise.reject(new Error('ProxyServiceClient is closed'));
    return this.#resolve(key, args);
  }

  /** Queues one event for the next batch; never blocks, never throws (counted `feedbackInvalid` when unusable). */
  feedback(event: FeedbackEvent | WireFeedbackEvent): void {
    this.#feedback.add(event);
  }

  /** Counters, the feedback backlog, the cache size and each endpoint's breaker state. */
  stats(): ClientStats {
    const now = performance.now();
    return {
      ...this.#counters,
      feedbackPending: this.#feedback.pending,
      cacheEntries: this.#cache.size,
      endpoints: this.#settings.endpoints.map((endpoint) => ({
        url: endpoint.url,
        state: endpoint.breaker.state(now),
        lastError: endpoint.breaker.lastError,
      })),
    };
  }

  /** GET /api/v1/proxy/health through the endpoints (the parsed answer). */
  async health(): Promise<unknown> {
    return (await this.#call('GET', PATHS.health, null, performance.now() + this.#timeoutMs)).json;
  }

  /**
   * Sends the feedback it can within `timeout` seconds, stops the timers, closes connections. Afterwards cached
   * answers are still served, anything else rejects, and feedback() counts the event as dropped.
   */
  close(timeout = 2): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#closed = true;
    this.#settings.stop();
    this.#closing = this.#feedback.close(performance.now() + timeout * 1000).finally(() => {
      this.#settings.closeIdle();
    });
    return this.#closing;
  }

  /**
   * One exchange with one endpoint through this client's transport and nothing else (no cache, retry, breaker):
   * the conformance runner's entry.
   */
  call(method: string, path: string, options: CallOptions = {}): Promise<Answer> {
    const { body, text, token, gzip = false, endpoint = 0, correlation = true } = options;
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(options.headers ?? {})) headers[name.toLowerCase()] = value;
    let payload: Buffer | null =
      text !== undefined ? Buffer.from(text) : body === undefined ? null : Buffer.from(JSON.stringify(body));
    if (body !== undefined && text === undefined) headers['content-type'] ??= 'application/json';
    if (gzip && payload !== null) {
      payload = gzipSync(payload);
      headers['content-encoding'] = 'gzip';
    }
    const target = this.#settings.endpoints[endpoint];
    if (target === undefined) return Promise.reject(new Error(`no endpoint ${String(endpoint)}`));
    return exchange(target, {
      method,
      path,
      payload,
      headers,
      token: token === undefined ? this.#settings.token : token,
      deadline: performance.now() + Math.max(this.#timeoutMs, 5000),
      requestId: correlation ? this.#nextRequestId() : false,
      maxAnswerBytes: this.#maxAnswerBytes,
    });
  }

  // ------------------------------------------------------------------------------------------------ resolution

  async #resolve(key: string, args: RequestArgs): Promise<Lease> {
    let got: Cached;
    try {
      got = await this.#fetchOnce(key, args);
    } catch (error) {
      if (!(error instanceof ServiceUnavailableError)) throw error;
      const url = this.#fallback.pick(args.exchangeId, args.connectionType, args.region);
      if (url === null) {
        this.#counters.noProxy += 1;
        throw error;
      }
      // Never cached: the next call that reaches the service is back on it.
      this.#counters.embedded += 1;
      return embeddedLease(url, args.region, 'embedded');
    }
    if (got instanceof NoProxyError) throw copyError(got);
    return got;
  }

  /** #fetch, but callers missing the same key at the same time share one service call. */
  #fetchOnce(key: string, args: RequestArgs): Promise<Cached> {
    const flight = this.#flights.get(key);
    if (flight) return flight.catch((error: unknown) => Promise.reject(copyError(error as Error)));
    const fetched = this.#fetch(key, args).finally(() => this.#flights.delete(key));
    this.#flights.set(key, fetched);
    return fetched;
  }

  async #fetch(key: string, args: RequestArgs): Promise<Cached> {
    const body: Record<string, unknown> = {
      exchange_id: args.exchangeId,
      connection_type: args.connectionType,
      region: args.region,
    };
    const clientId = args.clientId ?? this.#clientId;
    if (clientId !== undefined) body.client_id = clientId;
    if (args.metadata !== undefined) body.metadata = args.metadata;
    const answer = await this.#call(
      'POST',
      PATHS.request,
      Buffer.from(JSON.stringify(body)),
      performance.now() + this.#timeoutMs,
      args.requestId ?? null,
    );
    return this.#remember(key, args, answer.json as ProxyAnswer, answer.requestId || null);
  }

  /** Caches the service's answer for its TTL (a no-proxy answer too), and gives what the first caller gets. */
  #remember(key: string, args: RequestArgs, data: ProxyAnswer, requestId: string | null): Cached {
    const lease = leaseOf(data, args.region, requestId, 'service');
    const policy = data.fallback_policy;
    let first: Cached;
    let fresh: Cached;
    let stale: Cached;
    if (data.proxy_url !== null) {
      this.#counters.serviceAnswers += 1;
      first = lease;
      fresh = withSource(lease, 'cache');
      stale = withSource(lease, 'stale');
    } else if (policy === 'direct_connection') {
      this.#counters.direct += 1;
      first = fresh = stale = withSource(lease, 'direct');
    } else if (policy === 'embedded') {
      const url = this.#fallback.pick(args.exchangeId, args.connectionType, args.region);
      first =
        fresh =
        stale =
          url === null
            ? new NoProxyError(
                `the service has no proxy for region ${JSON.stringify(args.region)} and says embedded, but the embedded fallback has none`,
                args.region,
                policy,
              )
            : embeddedLease(url, args.region, policy);
      this.#counters[url === null ? 'noProxy' : 'embedded'] += 1;
    } else {
      this.#counters.noProxy += 1;
      first =
        fresh =
        stale =
          new NoProxyError(
            `the service has no proxy for region ${JSON.stringify(args.region)} (fallback policy ${policy})`,
            args.region,
            policy,
          );
    }
    const now = performance.now();
    this.#cache.set(key, now, data.ttl_seconds * 1000, this.#staleMs, fresh, stale, !(first instanceof Error));
    return first;
  }

  /** One background refresh of a stale entry; a failed one is tried again no sooner than 0.5 s later. */
  #refresh(key: string, entry: CacheEntry<Cached>, args: RequestArgs): void {
    if (this.#closed) return;
    entry.refreshing = true;
    this.#counters.refreshes += 1;
    this.#fetch(key, { ...args, requestId: undefined })
      .catch(() => {
        this.#counters.refreshFailures += 1;
        entry.retryAt = performance.now() + 500;
      })
      .finally(() => {
        entry.refreshing = false;
      });
  }

  #call(
    method: string,
    path: string,
    payload: Buffer | null,
    deadline: number,
    requestId: string | null = null,
    gzip = false,
  ): Promise<Answer> {
    return callService(
      {
        endpoints: () => this.#settings.endpoints,
        token: () => this.#settings.token,
        nextRequestId: () => this.#nextRequestId(),
        maxAnswerBytes: this.#maxAnswerBytes,
        counters: this.#counters,
      },
      method,
      path,
      payload,
      deadline,
      requestId,
      gzip,
    );
  }

  #nextRequestId(): string {
    this.#ids += 1;
    return `${this.#idPrefix}${String(this.#ids)}`;
  }
}
