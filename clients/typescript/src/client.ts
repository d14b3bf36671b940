import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { createSecureContext } from 'node:tls';
import { gzipSync } from 'node:zlib';
import { AnswerCache, cacheKey, type CacheEntry } from './cache.js';
import type { BreakerSettings } from './breaker.js';
import { Endpoint, parseUrls, type TrustedCa } from './endpoints.js';
import { copyError, NoProxyError, ServiceUnavailableError } from './errors.js';
import { EmbeddedFallback } from './fallback.js';
import type { FeedbackEvent, WireFeedbackEvent } from './feedback-buffer.js';
import { FeedbackSender } from './feedback-sender.js';
import { embeddedLease, leaseOf, withSource, type Lease, type ProxyAnswer, type RequestArgs } from './lease.js';
import { DEFAULTS, fromEnv, type ClientOptions } from './options.js';
import { callService } from './service-calls.js';
import { newCounters, type ClientStats, type Counters } from './stats.js';
import { exchange, PATHS, type Answer } from './transport.js';
import { WatchedFile } from './watched-file.js';

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
  readonly #breaker: BreakerSettings;
  readonly #timeoutMs: number;
  readonly #staleMs: number;
  readonly #maxAnswerBytes: number;
  readonly #clientId: string | undefined;
  readonly #idPrefix = `ts-${randomBytes(4).toString('hex')}-`;
  #ids = 0;
  #endpoints: Endpoint[];
  #endpointsSetting: string | undefined;
  readonly #endpointsFile: WatchedFile | undefined;
  #token: string;
  readonly #tokenFile: WatchedFile | undefined;
  readonly #caFile: WatchedFile | undefined;
  #ca: TrustedCa = null;
  readonly #watchTimer: NodeJS.Timeout;
  #watching = false;
  #closed = false;
  #closing: Promise<void> | null = null;

  constructor(options: ClientOptions = {}) {
    const setting = (name: keyof typeof DEFAULTS): number => options[name] ?? DEFAULTS[name];
    this.#timeoutMs = setting('timeout') * 1000;
    this.#staleMs = setting('staleSeconds') * 1000;
    this.#maxAnswerBytes = setting('maxAnswerBytes');
    this.#breaker = {
      threshold: setting('failureThreshold'),
      baseMs: setting('breakerBaseSeconds') * 1000,
      maxMs: setting('breakerMaxSeconds') * 1000,
    };
    this.#clientId = options.clientId;
    this.#cache = new AnswerCache(setting('maxCacheEntries'));

    // Endpoints: the list given, else its file (re-read when it changes), else TORFLEET_BROKER_URLS (re-read when
    // it changes), else TORFLEET_BROKER_URLS_FILE.
    let urls: string[];
    if (options.endpoints !== undefined) {
      urls = typeof options.endpoints === 'string' ? parseUrls(options.endpoints) : [...options.endpoints];
    } else if (options.endpointsFile !== undefined || fromEnv('TORFLEET_BROKER_URLS') === undefined) {
      const file = options.endpointsFile ?? fromEnv('TORFLEET_BROKER_URLS_FILE');
      if (file === undefined) {
        throw new Error('no broker endpoints: pass endpoints or endpointsFile, or set TORFLEET_BROKER_URLS(_FILE)');
      }
      this.#endpointsFile = new WatchedFile(file);
      urls = parseUrls(this.#endpointsFile.read());
    } else {
      this.#endpointsSetting = fromEnv('TORFLEET_BROKER_URLS') ?? '';
      urls = parseUrls(this.#endpointsSetting);
    }
    if (urls.length === 0) throw new Error(`no broker endpoints in ${this.#endpointsFile?.path ?? 'endpoints'}`);

    // Token: the one given, else its file (re-read when it changes), else the environment.
    let token = options.token;
    let tokenFile = options.tokenFile;
    if (token === undefined && tokenFile === undefined) {
      token = fromEnv('TORFLEET_BROKER_TOKEN');
      tokenFile = token === undefined ? fromEnv('TORFLEET_BROKER_TOKEN_FILE') : undefined;
    }
    if (token === undefined && tokenFile !== undefined) {
      this.#tokenFile = new WatchedFile(tokenFile);
      token = this.#tokenFile.read().trim();
    }
    if (!token) throw new Error('no broker token: pass token or tokenFile, or set TORFLEET_BROKER_TOKEN(_FILE)');
    this.#token = token;

    const caFile = options.caFile ?? fromEnv('TORFLEET_BROKER_CA_FILE');
    if (caFile !== undefined) {
      this.#caFile = new WatchedFile(caFile);
      this.#ca = this.#caFile.readBytes();
    }
    this.#fallback = new EmbeddedFallback(options.fallback);
    this.#endpoints = urls.map((url) => new Endpoint(url, this.#breaker, this.#ca));

    this.#feedback = new FeedbackSender({
      capacity: setting('feedbackBuffer'),
      intervalMs: setting('feedbackInterval') * 1000,
      timeoutMs: setting('feedbackTimeout') * 1000,
      clientId: this.#clientId,
      counters: this.#counters,
      send: (payload, deadline, gzip) => this.#call('POST', PATHS.feedback, payload, deadline, null, gzip),
    });
    this.#watchTimer = setInterval(() => void this.#watchOnce(), setting('watchInterval') * 1000);
    this.#watchTimer.unref();
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
      endpoints: this.#endpoints.map((endpoint) => ({
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
    clearInterval(this.#watchTimer);
    this.#closing = this.#feedback.close(performance.now() + timeout * 1000).finally(() => {
      for (const endpoint of this.#endpoints) endpoint.closeIdle();
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
    const target = this.#endpoints[endpoint];
    if (target === undefined) return Promise.reject(new Error(`no endpoint ${String(endpoint)}`));
    return exchange(target, {
      method,
      path,
      payload,
      headers,
      token: token === undefined ? this.#token : token,
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
        endpoints: () => this.#endpoints,
        token: () => this.#token,
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

  // ------------------------------------------------------------------------------------------------ watched settings

  async #watchOnce(): Promise<void> {
    if (this.#watching || this.#closed) return;
    this.#watching = true;
    try {
      if (this.#endpointsSetting !== undefined) {
        const setting = process.env.TORFLEET_BROKER_URLS ?? '';
        if (setting !== this.#endpointsSetting) {
          this.#endpointsSetting = setting;
          this.#setEndpoints(parseUrls(setting));
        }
      } else if (this.#endpointsFile && (await this.#endpointsFile.changed())) {
        this.#setEndpoints(this.#readOr(this.#endpointsFile, (text) => parseUrls(text), []));
      }
      if (this.#tokenFile && (await this.#tokenFile.changed())) {
        const token = this.#readOr(this.#tokenFile, (text) => text.trim(), '');
        if (token !== '') {
          this.#token = token;
          this.#counters.tokenReloads += 1;
        }
      }
      if (this.#caFile && (await this.#caFile.changed())) this.#reloadCa(this.#caFile);
    } catch {
      this.#counters.endpointReloadErrors += 1;
    } finally {
      this.#watching = false;
    }
  }

  #readOr<T>(file: WatchedFile, parse: (text: string) => T, otherwise: T): T {
    try {
      return parse(file.read());
    } catch {
      return otherwise;
    }
  }

  /** A changed CA file that parses is trusted by new connections; a broken one keeps the previous CA. */
  #reloadCa(file: WatchedFile): void {
    let ca: Buffer;
    try {
      ca = file.readBytes();
      createSecureContext({ ca });
      if (!ca.includes('-----BEGIN CERTIFICATE-----')) throw new Error('no certificate');
    } catch {
      this.#counters.endpointReloadErrors += 1;
      return;
    }
    this.#ca = ca;
    for (const endpoint of this.#endpoints) endpoint.trust(ca);
    this.#counters.caReloads += 1;
  }

  /** Follows a changed endpoint list; breakers of URLs still listed are kept. An unusable list is ignored. */
  #setEndpoints(urls: readonly string[]): void {
    const old = new Map(this.#endpoints.map((endpoint) => [endpoint.url, endpoint]));
    let fresh: Endpoint[];
    try {
      if (urls.length === 0) throw new Error('empty');
      fresh = urls.map((url) => old.get(url) ?? new Endpoint(url, this.#breaker, this.#ca));
    } catch {
      this.#counters.endpointReloadErrors += 1;
      return;
    }
    this.#endpoints = fresh;
    this.#counters.endpointReloads += 1;
    for (const [url, endpoint] of old) if (!urls.includes(url)) endpoint.closeIdle();
  }
}
