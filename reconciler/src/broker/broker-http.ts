import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import { presentedBearer } from '../api/bearer-token.js';
import { DEFAULT_API_LIMITS, type ApiLimits } from '../api/api-server.js';
import { parserErrorOf, writeRawError } from '../api/raw-answers.js';
import type { Logger } from '../logger.js';
import { RateLimiter, type RateLimit } from '../rate-limit/token-bucket.js';
import { parseFeedback, parseProxyRequest, type BodyProblem } from './broker-bodies.js';
import { readJsonBody } from './broker-body.js';
import type { BrokerMetrics } from './broker-metrics.js';
import type { BrokerService } from './broker-service.js';
import type { ClientTokens } from './client-tokens.js';

/** A broker answer: status, JSON body, extra headers. */
interface Answer {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  /** The request body was not read to its end: the connection cannot carry another request. */
  readonly close?: boolean;
}

export interface BrokerHttpOptions {
  readonly service: BrokerService;
  /** The clients now (the tokens file is re-read when it changes). */
  readonly tokens: () => ClientTokens;
  readonly metrics: BrokerMetrics;
  readonly rate: RateLimit;
  readonly now: () => number;
  readonly log: Logger;
  /** PEM certificate and key: HTTPS. Change them later with `server.setSecureContext`. */
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer } | null;
  readonly limits?: Partial<ApiLimits>;
}

/** Calls without a valid token, per peer address: enough for a client fixing its token, not for guessing one. */
const UNAUTHENTICATED_RATE: RateLimit = { perSecond: 5, burst: 20 };
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
/** Request ids made here: random per process, then a counter (unique, and cheaper than random bytes per call). */
const REQUEST_ID_PREFIX = `${randomBytes(6).toString('base64url')}-`;
let requests = 0;
const ROUTES: Readonly<Record<string, { readonly allow: string; readonly methods: readonly string[] }>> = {
  '/api/v1/proxy/request': { allow: 'POST', methods: ['POST'] },
  '/api/v1/proxy/feedback': { allow: 'POST', methods: ['POST'] },
  '/api/v1/proxy/health': { allow: 'GET, HEAD', methods: ['GET', 'HEAD'] },
};

const error = (
  status: number,
  code: string,
  message: string,
  field: string | null,
  extra: Partial<Answer> = {},
): Answer => ({ status, body: { error: { code, message, field } }, ...extra });

/** A body the schema refuses; the field is null when it is the whole body (not an object, a batch too long). */
const invalidField = (problem: BodyProblem): Answer =>
  error(400, 'invalid_field', problem.message, problem.field === '' ? null : problem.field);

/**
 * The broker's HTTP(S) server (clients/PROTOCOL.md): bearer tokens checked against the tokens file's SHA-256
 * digests, per-client and per-peer rate limits, bodies capped and gzip accepted, every refusal a JSON error naming
 * the field. Answers are compact JSON carrying the caller's `X-Request-Id` (or one made here).
 */
export function createBrokerServer(options: BrokerHttpOptions): Server | HttpsServer {
  const { service, metrics, log, now } = options;
  const limits = { ...DEFAULT_API_LIMITS, ...options.limits };
  const perClient = new RateLimiter(options.rate, now);
  const perPeer = new RateLimiter(UNAUTHENTICATED_RATE, now);

  const answer = async (request: IncomingMessage, requestId: string): Promise<Answer> => {
    const path = (request.url ?? '').split('?')[0] ?? '';
    const route = ROUTES[path];
    if (!route) {
      return error(
        404,
        'not_found',
        `no route ${JSON.stringify(path.slice(0, 80))}: the broker serves ${Object.keys(ROUTES).join(', ')}`,
        null,
        { close: true },
      );
    }
    if (!route.methods.includes(request.method ?? '')) {
      return error(405, 'method_not_allowed', `${path} answers ${route.allow}`, null, {
        headers: { allow: route.allow },
        close: true,
      });
    }
    const presented = presentedBearer(request.headers.authorization);
    const client = options.tokens().identify(presented);
    const limited = (client === null ? perPeer : perClient).take(
      client ?? `peer ${request.socket.remoteAddress ?? ''}`,
    );
    if (!limited.allowed) {
      return error(429, 'rate_limited', `too many calls: retry after ${limited.retryAfterSeconds} s`, null, {
        headers: { 'retry-after': String(limited.retryAfterSeconds) },
        close: true,
      });
    }
    if (client === null) {
      log.info('broker refused a call without a valid token', { requestId, peer: request.socket.remoteAddress });
      return error(
        401,
        'unauthorized',
        presented === undefined
          ? 'send Authorization: Bearer TOKEN (a token whose SHA-256 is in the broker tokens file)'
          : 'the bearer token is not one of the broker tokens file',
        'Authorization',
        { headers: { 'www-authenticate': 'Bearer realm="torfleet-broker"' }, close: true },
      );
    }
    if (!service.ready) {
      return error(
        503,
        'not_ready',
        'the broker has no fleet yet (the first reconcile has not finished): retry',
        null,
        {
          headers: { 'retry-after': '2' },
          close: true,
        },
      );
    }
    if (path === '/api/v1/proxy/health') {
      // A body here is never read: close after the answer, or node would read (and drop) all of it, however large.
      const hasBody =
        request.headers['transfer-encoding'] !== undefined || Number(request.headers['content-length'] ?? 0) > 0;
      return { status: 200, body: service.healthView(), ...(hasBody ? { close: true } : {}) };
    }
    const body = await readJsonBody(request);
    if (!body.ok) {
      const { status, code, message, field } = body.refusal;
      return error(status, code, message, field, { close: true });
    }
    if (path === '/api/v1/proxy/request') {
      const parsed = parseProxyRequest(body.value);
      if (!parsed.ok) return invalidField(parsed.problem);
      const outcome = service.request(client, parsed.value);
      if (!outcome.ok) {
        return outcome.code === 'unknown_region'
          ? error(400, 'unknown_region', outcome.message, 'region')
          : error(503, 'not_ready', outcome.message, null, { headers: { 'retry-after': '2' } });
      }
      log.debug('broker lease', {
        requestId,
        client,
        region: outcome.answer.metadata.region,
        proxy: outcome.answer.metadata.proxy_id,
        strategy: outcome.answer.strategy,
      });
      return { status: 200, body: outcome.answer };
    }
    const parsed = parseFeedback(body.value);
    if (!parsed.ok) return invalidField(parsed.problem);
    return { status: 202, body: service.feedback(parsed.value) };
  };

  const handle = (request: IncomingMessage, response: ServerResponse): void => {
    const started = performance.now();
    const sent = request.headers['x-request-id'];
    const requestId =
      typeof sent === 'string' && REQUEST_ID.test(sent) ? sent : `req_${REQUEST_ID_PREFIX}${(++requests).toString(36)}`;
    answer(request, requestId)
      .catch((failure: unknown) => {
        log.error('broker call failed', { requestId, error: String(failure) });
        return error(500, 'internal', 'the broker failed to answer; it logged why (request id in X-Request-Id)', null, {
          close: true,
        });
      })
      .then((reply) => {
        if (response.destroyed) return;
        const text = `${JSON.stringify(reply.body)}\n`;
        response.writeHead(reply.status, {
          'content-type': 'application/json; charset=utf-8',
          'content-length': String(Buffer.byteLength(text)),
          'cache-control': 'no-store',
          'x-request-id': requestId,
          ...(reply.close ? { connection: 'close' } : {}),
          ...reply.headers,
        });
        response.end(text);
        metrics.observeRequest(
          (request.url ?? '').split('?')[0] ?? '',
          reply.status,
          (performance.now() - started) / 1000,
        );
      })
      .catch(() => undefined);
  };

  const serverOptions = {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    connectionsCheckingInterval: limits.checkIntervalMs,
    requireHostHeader: false,
  };
  const server = options.tls
    ? createHttpsServer(
        {
          ...serverOptions,
          // The HTTP timeouts start only once the handshake is done: without this, a socket that never finishes
          // its TLS handshake (silent, or half a ClientHello) holds a connection slot for node's default 120 s.
          handshakeTimeout: limits.headersTimeoutMs,
          cert: options.tls.cert,
          key: options.tls.key,
        },
        handle,
      )
    : createHttpServer(serverOptions, handle);
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.maxConnections = limits.maxConnections;
  server.on('clientError', (failure: NodeJS.ErrnoException, socket) => {
    if (failure.code === 'ECONNRESET' || failure.code === 'EPIPE' || !socket.writable) {
      socket.destroy();
      return;
    }
    const { status, code } = parserErrorOf(failure.code);
    const message =
      code === 'request_timeout'
        ? 'the request did not arrive in time: send the headers and body at once'
        : `the request is not well-formed HTTP/1.1 (${failure.code ?? 'parse error'}): see clients/PROTOCOL.md`;
    if (writeRawError(socket, status, { code, message, field: null })) metrics.observeRequest('other', status, 0);
  });
  server.on('tlsClientError', (_failure: Error, socket: Duplex) => {
    socket.destroy();
  });
  server.on('connect', (_request, socket) => {
    socket.on('error', () => undefined);
    writeRawError(socket, 405, {
      code: 'method_not_allowed',
      message: 'the broker is not a proxy: CONNECT is not served',
      field: null,
    });
  });
  return server;
}
