import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { errorMessage, TorfleetError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import type { NodeStats } from '../nodes/node-stats.js';
import type { ApiSource } from './api-source.js';
import { TorfleetMetrics } from './metrics.js';
import { proxiesNotReady, readyCounts } from './proxy-readiness.js';
import { filterProxies, proxyViews, type ProxyView } from './proxy-view.js';
import { parserErrorOf, writeRawError } from './raw-answers.js';
import { parseRequestTarget } from './request-target.js';

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

interface Reply {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Record<string, string>;
  /** A body already in its final text form (Prometheus). */
  readonly text?: string;
}

type Handler = (query: URLSearchParams, params: readonly string[]) => Promise<Reply> | Reply;

interface Route {
  /** The template that labels metrics, never the raw path (no cardinality explosion). */
  readonly template: string;
  readonly pattern: RegExp;
  readonly methods: Readonly<Record<string, Handler>>;
  readonly open?: boolean;
}

/** Every route is read-only. */
const ALLOW = 'GET, HEAD';

const GITOPS = 'proxies are changed by committing fleet/fleet.yaml to the fleet repository; this API is read-only';

export const ROUTE_TEMPLATES = ['/proxies', '/proxies/{name}', '/status', '/nodes', '/healthz', '/readyz', '/metrics'];
/** The route label of a path no route matches, and of a request no route could be read from. */
export const UNMATCHED_ROUTE = 'unmatched';
export const INVALID_ROUTE = 'invalid';

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
  const views = async (): Promise<ProxyView[]> =>
    proxyViews(
      source.lastPlan(),
      await source.observed(),
      (p) => source.egress(p),
      (p, instance) => source.health?.(p, instance) ?? null,
    );
  const readiness = async (): Promise<string | null> => {
    if (source.status().passes.length === 0) return 'not ready: no reconcile pass has finished yet';
    const stats = readNodeStats(source);
    if (stats instanceof TorfleetError) return `not ready: ${stats.message}`;
    if (stats.stale) return 'not ready: the node database is stale; see GET /nodes';
    if (!source.networkEnabled?.()) return null;
    try {
      return proxiesNotReady(readyCounts(source.lastPlan(), await views()));
    } catch (failure) {
      return `not ready: cannot list the proxies: ${errorMessage(failure)}`;
    }
  };
  const routes: Route[] = [
    {
      template: '/proxies',
      pattern: /^\/proxies\/?$/,
      methods: {
        GET: async (query) => ({
          status: 200,
          body: {
            revision: source.status().lastAppliedRevision,
            proxies: filterProxies(await views(), query),
          },
        }),
        POST: () => error(405, 'read_only', `cannot create a proxy here: ${GITOPS}`, { Allow: ALLOW }),
      },
    },
    {
      template: '/proxies/{name}',
      pattern: /^\/proxies\/([^/]+)$/,
      methods: {
        GET: async (_query, [name]) => {
          const found = (await views()).find((view) => view.name === name);
          return found
            ? { status: 200, body: found }
            : error(404, 'not_found', `no proxy named "${name ?? ''}" in the fleet`);
        },
        DELETE: () => error(405, 'read_only', `cannot delete a proxy here: ${GITOPS}`, { Allow: ALLOW }),
      },
    },
    { template: '/status', pattern: /^\/status$/, methods: { GET: () => ({ status: 200, body: statusBody(source) }) } },
    {
      template: '/nodes',
      pattern: /^\/nodes$/,
      methods: {
        GET: () => {
          const stats = readNodeStats(source);
          return stats instanceof TorfleetError
            ? error(503, 'node_db_unavailable', stats.message)
            : { status: 200, body: nodesBody(stats) };
        },
      },
    },
    {
      template: '/healthz',
      pattern: /^\/healthz$/,
      open: true,
      methods: {
        GET: () => {
          const liveness = source.liveness?.();
          return !liveness || liveness.live
            ? { status: 200, body: { status: 'ok' } }
            : error(503, 'not_live', liveness.message);
        },
      },
    },
    {
      template: '/readyz',
      pattern: /^\/readyz$/,
      open: true,
      methods: {
        GET: async () => {
          const why = await readiness();
          return why === null ? { status: 200, body: { status: 'ready' } } : error(503, 'not_ready', why);
        },
      },
    },
    {
      template: '/metrics',
      pattern: /^\/metrics$/,
      methods: {
        GET: async () => ({
          status: 200,
          body: null,
          text: await metrics.registry.metrics(),
          headers: { 'content-type': metrics.registry.contentType },
        }),
      },
    },
  ];

  const expected = options.token === undefined ? undefined : digest(options.token);
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
      void answer(request).then(({ reply, template }) => {
        send(response, reply, carriesBody(request));
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
    send(
      response,
      error(417, 'expectation_failed', `cannot meet "Expect: ${expectation}"; send no Expect header`),
      true,
    );
    metrics.observeRequest(methodLabel(request.method), INVALID_ROUTE, 417, 0);
  });

  /** Never rejects: a failure inside a route becomes that route's 503 or 500. */
  async function answer(request: IncomingMessage): Promise<{ reply: Reply; template: string }> {
    const target = parseRequestTarget(request.url ?? '');
    if (!target.ok) return { reply: error(400, 'bad_request', target.message), template: INVALID_ROUTE };
    if (request.httpVersion === '1.1' && request.headers.host === undefined) {
      return {
        reply: error(400, 'bad_request', 'an HTTP/1.1 request needs a Host header; send "Host: ADDRESS:PORT"'),
        template: INVALID_ROUTE,
      };
    }
    for (const route of routes) {
      const match = route.pattern.exec(target.path);
      if (!match) continue;
      if (!route.open && expected && !authorized(request, expected)) {
        return {
          reply: error(401, 'unauthorized', 'this API needs "Authorization: Bearer <TORFLEET_API_TOKEN>"'),
          template: route.template,
        };
      }
      const method = request.method === 'HEAD' ? 'GET' : (request.method ?? 'GET');
      const handler = route.methods[method];
      if (!handler)
        return {
          reply: error(405, 'method_not_allowed', `${method} is not allowed on ${route.template}; ${GITOPS}`, {
            Allow: ALLOW,
          }),
          template: route.template,
        };
      if (method === 'GET' && carriesBody(request)) {
        return {
          reply: error(
            413,
            'body_not_accepted',
            `this read-only API takes no request body; send ${method} without one`,
          ),
          template: route.template,
        };
      }
      try {
        return { reply: await handler(target.query, match.slice(1).map(decodeURIComponent)), template: route.template };
      } catch (failure) {
        return { reply: failureReply(failure, route.template), template: route.template };
      }
    }
    return {
      reply: error(404, 'not_found', `no route ${shorten(target.path)}; routes: ${ROUTE_TEMPLATES.join(', ')}`),
      template: UNMATCHED_ROUTE,
    };
  }

  /** A dependency that is away (a typed error: Docker down, the node database unreadable) is a 503; a bug a 500. */
  function failureReply(failure: unknown, template: string): Reply {
    if (failure instanceof TorfleetError) {
      log.warn('api route unavailable', { route: template, code: failure.code, error: errorMessage(failure) });
      return error(503, 'unavailable', errorMessage(failure));
    }
    log.error('api request failed', { route: template, error: errorMessage(failure) });
    return error(500, 'internal', 'internal error; see the reconciler log');
  }

  return { server, metrics };
}

function statusBody(source: ApiSource): unknown {
  const status = source.status();
  const stats = readNodeStats(source);
  const nodes =
    stats instanceof TorfleetError
      ? { error: { code: 'node_db_unavailable', message: stats.message } }
      : nodesBody(stats);
  const liveness = source.liveness?.();
  return { ...status, nodes, ...(liveness ? { liveness } : {}) };
}

/** The node database's counts, or the typed error that says why they cannot be read. */
function readNodeStats(source: ApiSource): NodeStats | TorfleetError {
  try {
    return source.nodeStats();
  } catch (failure) {
    return failure instanceof TorfleetError
      ? failure
      : new TorfleetError('NODE_DB', 'generic', `cannot read the node database: ${errorMessage(failure)}`, {
          cause: failure,
        });
  }
}

function nodesBody(stats: NodeStats): unknown {
  return {
    exits: stats.exits,
    relays: stats.relays,
    relays_published: stats.relaysPublished,
    refreshed_at: stats.refreshedAt,
    stale: stats.stale,
    ...(stats.lastRefusal
      ? {
          last_refusal: {
            at: stats.lastRefusal.at,
            reason: stats.lastRefusal.reason,
            message: stats.lastRefusal.message,
            relays_published: stats.lastRefusal.relaysPublished,
          },
        }
      : {}),
  };
}

function error(status: number, code: string, message: string, headers?: Record<string, string>): Reply {
  return { status, body: { error: { code, message } }, ...(headers ? { headers } : {}) };
}

/** A request that declares a body: the API reads none, so the connection is closed after the answer. */
function carriesBody(request: IncomingMessage): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

function shorten(text: string): string {
  return text.length > 80 ? `${text.slice(0, 80)}...` : text;
}

function send(response: ServerResponse, reply: Reply, close: boolean): void {
  if (response.destroyed) return;
  const text = reply.text ?? `${JSON.stringify(reply.body, null, 2)}\n`;
  response.writeHead(reply.status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    ...(close ? { connection: 'close' } : {}),
    ...reply.headers,
  });
  response.end(text);
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** Constant-time comparison of the bearer token (through digests, so lengths do not leak either). */
function authorized(request: IncomingMessage, expected: Buffer): boolean {
  const header = request.headers.authorization ?? '';
  const presented = /^Bearer (.+)$/.exec(header)?.[1];
  return presented !== undefined && timingSafeEqual(digest(presented), expected);
}
