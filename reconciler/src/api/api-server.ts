import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { silentLogger, type Logger } from '../logger.js';
import type { ApiSource } from './api-source.js';
import { tokenDigest } from '../token-digest.js';
import { TorfleetMetrics } from './metrics.js';
import { parserErrorOf, writeRawError } from './raw-answers.js';
import { ALLOW, carriesBody, errorReply, GITOPS, sendReply } from './replies.js';
import { answerRequest } from './route-answer.js';
import { apiRoutes, INVALID_ROUTE, ROUTE_TEMPLATES } from './routes.js';

export { INVALID_ROUTE, ROUTE_TEMPLATES, UNMATCHED_ROUTE } from './routes.js';

export interface ApiOptions {
  readonly source: ApiSource;
  /** When set, every route but /healthz and /readyz needs `Authorization: Bearer <token>`. */
  readonly token?: string | undefined;
  readonly log?: Logger;
  readonly limits?: Partial<ApiLimits>;
}

/** What a client may hold of the server; slow or idle clients lose their socket past these. */
export interface ApiLimits {
  /** The whole request head must arrive within this from the connection's start (slowloris). */
  readonly headersTimeoutMs: number;
  /** The whole request must arrive within this. */
  readonly requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  readonly keepAliveTimeoutMs: number;
  /** How often the two request timeouts are checked. */
  readonly checkIntervalMs: number;
  /** Connections beyond this are refused at once. */
  readonly maxConnections: number;
}

export const DEFAULT_API_LIMITS: ApiLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  checkIntervalMs: 1_000,
  maxConnections: 512,
};

/** Method labels: the standard methods; any other (WebDAV and the like) is `other`, an unparsable one `unknown`. */
const METHOD_LABELS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'CONNECT', 'TRACE']);
const methodLabel = (method: string | undefined): string =>
  method === undefined ? 'unknown' : METHOD_LABELS.has(method) ? method : 'other';

/**
 * The read-only HTTP API of the contract. Errors are JSON `{"error": {"code", "message"}}`; a route
 * answers other methods with 405 and an Allow header; writes explain that git is the only writer.
 */
export function createApiServer(options: ApiOptions): { server: Server; metrics: TorfleetMetrics } {
  const { source } = options;
  const log = options.log ?? silentLogger;
  const limits = { ...DEFAULT_API_LIMITS, ...options.limits };
  const metrics = new TorfleetMetrics(source, ROUTE_TEMPLATES);
  const routes = apiRoutes(source, metrics);

  const expected = options.token === undefined ? undefined : tokenDigest(options.token);
  const server = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      connectionsCheckingInterval: limits.checkIntervalMs,
      // Checked below, so the 400 is JSON and counted like every other answer.
      requireHostHeader: false,
    },
    (request, response) => {
      const started = performance.now();
      void answerRequest(request, routes, expected, log).then(({ reply, template }) => {
        sendReply(response, reply, carriesBody(request));
        metrics.observeRequest(
          methodLabel(request.method),
          template,
          reply.status,
          (performance.now() - started) / 1000,
        );
      });
    },
  );
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.maxConnections = limits.maxConnections;
  // The parser's errors (bad method, bad target bytes, oversized head, slow head): a JSON error, counted.
  server.on('clientError', (failure: NodeJS.ErrnoException, socket) => {
    if (failure.code === 'ECONNRESET' || failure.code === 'EPIPE') {
      socket.destroy();
      return;
    }
    const { status, code, message } = parserErrorOf(failure.code);
    if (writeRawError(socket, status, { code, message })) {
      metrics.observeRequest('unknown', INVALID_ROUTE, status, 0);
      log.debug('api client error', { status, parserCode: failure.code });
    }
  });
  server.on('connect', (_request, socket: Socket) => {
    socket.on('error', () => undefined);
    const message = `CONNECT is not served: this is torfleet's read-only API, not a proxy; ${GITOPS}`;
    if (writeRawError(socket, 405, { code: 'method_not_allowed', message }, { Allow: ALLOW })) {
      metrics.observeRequest('CONNECT', INVALID_ROUTE, 405, 0);
    }
  });
  server.on('checkExpectation', (request, response) => {
    const expectation = String(request.headers.expect).slice(0, 40);
    sendReply(
      response,
      errorReply(417, 'expectation_failed', `cannot meet "Expect: ${expectation}"; send no Expect header`),
      true,
    );
    metrics.observeRequest(methodLabel(request.method), INVALID_ROUTE, 417, 0);
  });

  return { server, metrics };
}
