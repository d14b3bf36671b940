import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { presentedBearer } from '../api/bearer-token.js';
import { DEFAULT_API_LIMITS } from '../api/api-server.js';
import { parserErrorOf, writeRawError } from '../api/raw-answers.js';
import { readCapped } from '../broker/broker-body.js';
import type { ClientTokens } from '../broker/client-tokens.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import { RateLimiter, type RateLimit } from '../rate-limit/token-bucket.js';
import type { SignatureVerifier } from './hmac-auth.js';
import { parseJobRequest } from './job-request.js';
import type { JobRunner } from './job-runner.js';
import { JOB_STATUSES, type JobStatus } from './job-status.js';
import type { ContentJob, JobStore } from './job-store.js';

/** Largest `POST /v1/requests` body read: a URL, headers and a request body to send, not content. */
export const MAX_REQUEST_BYTES = 256 * 1024;
/** The routes without auth (health, the tracker's announces) and refused calls, per peer address. */
const PER_PEER: RateLimit = { perSecond: 50, burst: 100 };
const JOB_PATH = /^\/v1\/requests\/([A-Za-z0-9_-]{1,64})(\/torrent|\/magnet)?$/;

/** The torrents the service made, by content. */
export interface TorrentFiles {
  torrent(sha256: string): Buffer | null;
  magnet(sha256: string): string | null;
}

export interface TorrentHttpOptions {
  readonly store: JobStore;
  readonly runner: JobRunner;
  readonly torrents: TorrentFiles;
  readonly verifier: SignatureVerifier;
  /** Bearer clients (TORFLEET_TORRENT_TOKENS_FILE), or null when only signatures are accepted. */
  readonly tokens: () => ClientTokens | null;
  /** `GET /announce`: the service's tracker (no auth: BitTorrent clients cannot sign; it knows only our torrents). */
  readonly tracker: (request: IncomingMessage, response: ServerResponse) => void;
  readonly health: () => Record<string, unknown>;
  /** Per client (TORFLEET_TORRENT_RATE / _BURST). */
  readonly rate: RateLimit;
  /** A client's jobs not yet finished, at most (TORFLEET_TORRENT_MAX_QUEUED). */
  readonly maxUnfinished: number;
  readonly now: () => number;
  readonly log: Logger;
  readonly observeRequest?: (route: string, status: number) => void;
}

interface Answer {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  readonly close?: boolean;
  /** Sent as it is (the .torrent file), not as JSON. */
  readonly raw?: { readonly type: string; readonly bytes: Buffer };
}

const failure = (
  status: number,
  code: string,
  message: string,
  field: string | null,
  extra: Partial<Answer> = {},
): Answer => ({
  status,
  body: { error: { code, message, field } },
  ...extra,
});

/** Who a request comes from: a bearer client, `hmac` (a valid signature), or a refusal to send. */
type Caller = { readonly ok: true; readonly client: string } | { readonly ok: false; readonly answer: Answer };

/**
 * The content jobs API (the contract's "Fetch and share as a torrent"): every route but `/v1/health` and the
 * tracker's `/announce` needs a valid HMAC signature or bearer token; calls are rate limited per client and per
 * peer address; a job is visible only to the client that made it (others get 404); bodies are capped; every
 * refusal is a JSON error naming what is wrong. Logs name jobs, never URLs, headers, tokens or the secret.
 */
export function createTorrentServer(options: TorrentHttpOptions): Server {
  const { store, runner, log, now } = options;
  const perClient = new RateLimiter(options.rate, now);
  const perPeer = new RateLimiter(PER_PEER, now);

  const authenticate = (request: IncomingMessage, path: string, body: Buffer): Caller => {
    const bearer = presentedBearer(request.headers.authorization);
    if (bearer !== undefined) {
      const client = options.tokens()?.identify(bearer) ?? null;
      if (client !== null) return { ok: true, client };
      return {
        ok: false,
        answer: failure(
          401,
          'unauthorized',
          'the bearer token is not one of TORFLEET_TORRENT_TOKENS_FILE',
          'Authorization',
          {
            headers: { 'www-authenticate': 'Bearer realm="torfleet-content"' },
          },
        ),
      };
    }
    const check = options.verifier.check({
      method: request.method ?? '',
      path,
      timestamp: header(request, 'x-timestamp'),
      signature: header(request, 'x-signature'),
      body,
    });
    if (check.ok) return { ok: true, client: 'hmac' };
    const field = check.reason === 'bad_timestamp' || check.reason === 'stale' ? 'X-Timestamp' : 'X-Signature';
    log.info('content service refused a call', { reason: check.reason, peer: request.socket.remoteAddress });
    return { ok: false, answer: failure(401, 'unauthorized', check.message, field) };
  };

  const answer = async (request: IncomingMessage, response: ServerResponse): Promise<Answer | null> => {
    const target = request.url ?? '';
    const path = target.split('?')[0] ?? '';
    const method = request.method ?? '';
    const byPeer = (): Answer | null => {
      const peer = perPeer.take(request.socket.remoteAddress ?? '');
      return peer.allowed ? null : limited(peer.retryAfterSeconds);
    };
    if (path === '/announce') {
      const refused = byPeer();
      if (refused) return refused;
      options.tracker(request, response);
      return null;
    }
    if (path === '/v1/health') {
      const refused = byPeer();
      if (refused) return refused;
      if (method !== 'GET' && method !== 'HEAD') return notAllowed(path, 'GET, HEAD');
      return { status: 200, body: options.health(), close: hasBody(request) };
    }
    const jobPath = JOB_PATH.exec(path);
    if (path !== '/v1/requests' && !jobPath) {
      return failure(
        404,
        'not_found',
        `no route ${JSON.stringify(path.slice(0, 80))}: see the README's content jobs section`,
        null,
        {
          close: true,
        },
      );
    }
    const allow = path === '/v1/requests' ? 'POST' : jobPath?.[2] ? 'GET' : 'GET, DELETE';
    if (!allow.split(', ').includes(method)) return notAllowed(path, allow);
    if (Number(request.headers['content-length'] ?? 0) > MAX_REQUEST_BYTES) return tooLarge();
    const body = await readCapped(request, MAX_REQUEST_BYTES);
    if (body === null) return tooLarge();
    // The signature covers the request target as sent (path and query).
    const caller = authenticate(request, target, body);
    if (!caller.ok) return { ...(byPeer() ?? caller.answer), close: true };
    const quota = perClient.take(caller.client);
    if (!quota.allowed) return limited(quota.retryAfterSeconds);
    if (!jobPath) return create(caller.client, body);
    const job = store.get(jobPath[1] ?? '');
    if (!job || job.client !== caller.client) {
      return failure(404, 'not_found', `no content job ${JSON.stringify(jobPath[1])} of yours`, 'id');
    }
    if (method === 'DELETE') {
      const cancelled = await runner.cancel(job.id);
      log.info(`content job ${job.id} deleted`, { job: job.id, client: caller.client });
      return { status: 200, body: cancelled ? view(cancelled) : view(job) };
    }
    if (!jobPath[2]) return { status: 200, body: view(job) };
    if (job.status !== 'READY' || job.contentHash === null) {
      return failure(409, 'not_ready', `the job is ${job.status}: its torrent exists once it is READY`, 'status');
    }
    if (jobPath[2] === '/torrent') {
      const bytes = options.torrents.torrent(job.contentHash);
      if (!bytes) return failure(409, 'not_ready', 'the torrent is not made yet', 'status');
      return { status: 200, body: null, raw: { type: 'application/x-bittorrent', bytes } };
    }
    const magnet = options.torrents.magnet(job.contentHash);
    if (magnet === null) return failure(409, 'not_ready', 'the torrent is not made yet', 'status');
    return { status: 200, body: { magnet } };
  };

  const create = (client: string, body: Buffer): Answer => {
    let value: unknown;
    try {
      value = JSON.parse(body.toString('utf8'));
    } catch {
      return failure(400, 'invalid_json', 'the body is not JSON: send one JSON object (see the README)', null);
    }
    const parsed = parseJobRequest(value);
    if (!parsed.ok) {
      const { field, message } = parsed.problem;
      return failure(400, 'invalid_field', message, field === '' ? null : field);
    }
    const unfinished = store.unfinished(client, options.maxUnfinished);
    if (unfinished >= options.maxUnfinished) {
      return failure(
        429,
        'too_many_jobs',
        `${String(unfinished)} jobs of yours are not finished yet (TORFLEET_TORRENT_MAX_QUEUED): wait for some, or DELETE them`,
        null,
        { headers: { 'retry-after': '10' } },
      );
    }
    const id = `job_${randomUUID().replaceAll('-', '')}`;
    const job = store.create(id, client, parsed.value, now());
    log.info(`content job ${id} queued`, { job: id, client, route: parsed.value.route });
    runner.wake();
    return { status: 202, body: { id: job.id, status: job.status } };
  };

  const handle = (request: IncomingMessage, response: ServerResponse): void => {
    answer(request, response)
      .catch((error: unknown) => {
        log.error('content service call failed', { error: errorMessage(error) });
        return failure(500, 'internal', 'the content service failed to answer; it logged why', null, { close: true });
      })
      .then((reply) => {
        if (reply === null || response.destroyed || response.headersSent) return;
        const bytes = reply.raw?.bytes ?? Buffer.from(`${JSON.stringify(reply.body)}\n`);
        response.writeHead(reply.status, {
          'content-type': reply.raw?.type ?? 'application/json; charset=utf-8',
          'content-length': String(bytes.length),
          'cache-control': 'no-store',
          ...(reply.close ? { connection: 'close' } : {}),
          ...reply.headers,
        });
        response.end(request.method === 'HEAD' ? undefined : bytes);
        options.observeRequest?.(routeLabel(request.url ?? ''), reply.status);
      })
      .catch(() => undefined);
  };

  const server = createServer(
    {
      headersTimeout: DEFAULT_API_LIMITS.headersTimeoutMs,
      requestTimeout: DEFAULT_API_LIMITS.requestTimeoutMs,
      connectionsCheckingInterval: DEFAULT_API_LIMITS.checkIntervalMs,
      requireHostHeader: false,
    },
    handle,
  );
  server.keepAliveTimeout = DEFAULT_API_LIMITS.keepAliveTimeoutMs;
  server.maxConnections = DEFAULT_API_LIMITS.maxConnections;
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    if (error.code === 'ECONNRESET' || error.code === 'EPIPE' || !socket.writable) {
      socket.destroy();
      return;
    }
    const { status, code } = parserErrorOf(error.code);
    writeRawError(socket, status, {
      code,
      message: `not well-formed HTTP/1.1 (${error.code ?? 'parse error'})`,
      field: null,
    });
  });
  server.on('connect', (_request, socket) => {
    socket.on('error', () => undefined);
    writeRawError(socket, 405, {
      code: 'method_not_allowed',
      message: 'the content service is not a proxy',
      field: null,
    });
  });
  return server;
}

/** A job as the API shows it (the contract's fields; times ISO 8601, progress in bytes fetched so far). */
export function view(job: ContentJob): Record<string, unknown> {
  const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
  return {
    id: job.id,
    status: job.status,
    progress: job.progress,
    url: job.url,
    route: job.route,
    attempts: job.attempts,
    content_hash: job.contentHash,
    content_size: job.contentSize,
    content_type: job.contentType,
    infohash: job.infohash,
    error_message: job.errorMessage,
    created_at: iso(job.createdAt),
    updated_at: iso(job.updatedAt),
    completed_at: iso(job.completedAt),
    expires_at: iso(job.expiresAt),
  };
}

/** Jobs by status, every status present: for `/v1/health` and the metrics. */
export function jobCounts(store: JobStore): Record<JobStatus, number> {
  return Object.fromEntries(JOB_STATUSES.map((status) => [status, store.count(status)])) as Record<JobStatus, number>;
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === 'string' ? value : undefined;
}

function hasBody(request: IncomingMessage): boolean {
  return request.headers['transfer-encoding'] !== undefined || Number(request.headers['content-length'] ?? 0) > 0;
}

function limited(seconds: number): Answer {
  return failure(429, 'rate_limited', `too many calls: retry after ${seconds} s`, null, {
    headers: { 'retry-after': String(seconds) },
    close: true,
  });
}

function notAllowed(path: string, allow: string): Answer {
  return failure(405, 'method_not_allowed', `${path} answers ${allow}`, null, { headers: { allow }, close: true });
}

function tooLarge(): Answer {
  return failure(
    413,
    'body_too_large',
    `the body is over ${MAX_REQUEST_BYTES} bytes: a job request holds a URL, headers and a small body`,
    null,
    {
      close: true,
    },
  );
}

function routeLabel(url: string): string {
  const path = url.split('?')[0] ?? '';
  if (path === '/v1/requests' || path === '/v1/health' || path === '/announce') return path;
  const job = JOB_PATH.exec(path);
  return job ? `/v1/requests/{id}${job[2] ?? ''}` : 'other';
}
