import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { errorMessage } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import type { ApiSource } from './api-source.js';
import { TorfleetMetrics } from './metrics.js';
import { filterProxies, proxyViews } from './proxy-view.js';

export interface ApiOptions {
  readonly source: ApiSource;
  /** When set, every route but /healthz and /readyz needs `Authorization: Bearer <token>`. */
  readonly token?: string | undefined;
  readonly log?: Logger;
}

interface Reply {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Record<string, string>;
  /** A body already in its final text form (Prometheus). */
  readonly text?: string;
}

type Handler = (url: URL, params: readonly string[]) => Promise<Reply> | Reply;

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

/**
 * The read-only HTTP API of the contract. Errors are JSON `{"error": {"code", "message"}}`; a route
 * answers other methods with 405 and an Allow header; writes explain that git is the only writer.
 */
export function createApiServer(options: ApiOptions): { server: Server; metrics: TorfleetMetrics } {
  const { source } = options;
  const log = options.log ?? silentLogger;
  const metrics = new TorfleetMetrics(source, ROUTE_TEMPLATES);
  const ready = (): boolean => {
    const status = source.status();
    return status.passes.length > 0 && !source.nodeStats().stale;
  };
  const routes: Route[] = [
    {
      template: '/proxies',
      pattern: /^\/proxies\/?$/,
      methods: {
        GET: async (url) => ({
          status: 200,
          body: {
            revision: source.status().lastAppliedRevision,
            proxies: filterProxies(
              proxyViews(source.lastPlan(), await source.observed(), (p) => source.egress(p)),
              url.searchParams,
            ),
          },
        }),
        POST: () => error(405, 'read_only', `cannot create a proxy here: ${GITOPS}`, { Allow: ALLOW }),
      },
    },
    {
      template: '/proxies/{name}',
      pattern: /^\/proxies\/([^/]+)$/,
      methods: {
        GET: async (_url, [name]) => {
          const found = proxyViews(source.lastPlan(), await source.observed(), (p) => source.egress(p)).find(
            (view) => view.name === name,
          );
          return found
            ? { status: 200, body: found }
            : error(404, 'not_found', `no proxy named "${name ?? ''}" in the fleet`);
        },
        DELETE: () => error(405, 'read_only', `cannot delete a proxy here: ${GITOPS}`, { Allow: ALLOW }),
      },
    },
    { template: '/status', pattern: /^\/status$/, methods: { GET: () => ({ status: 200, body: statusBody(source) }) } },
    { template: '/nodes', pattern: /^\/nodes$/, methods: { GET: () => ({ status: 200, body: nodesBody(source) }) } },
    {
      template: '/healthz',
      pattern: /^\/healthz$/,
      open: true,
      methods: { GET: () => ({ status: 200, body: { status: 'ok' } }) },
    },
    {
      template: '/readyz',
      pattern: /^\/readyz$/,
      open: true,
      methods: {
        GET: () =>
          ready()
            ? { status: 200, body: { status: 'ready' } }
            : error(503, 'not_ready', 'not ready: no reconcile pass has finished yet, or the node database is stale'),
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
  const server = createServer((request, response) => {
    const started = performance.now();
    void answer(request).then(
      ({ reply, template }) => {
        send(response, reply);
        metrics.observeRequest(request.method ?? 'GET', template, reply.status, (performance.now() - started) / 1000);
      },
      (failure: unknown) => {
        log.error('api request failed', { url: request.url, error: errorMessage(failure) });
        send(response, error(500, 'internal', 'internal error; see the reconciler log'));
      },
    );
  });

  async function answer(request: IncomingMessage): Promise<{ reply: Reply; template: string }> {
    const url = new URL(request.url ?? '/', 'http://torfleet.invalid');
    for (const route of routes) {
      const match = route.pattern.exec(url.pathname);
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
      const reply = await handler(url, match.slice(1).map(decodeURIComponent));
      return {
        reply,
        template: route.template,
      };
    }
    return {
      reply: error(404, 'not_found', `no route ${url.pathname}; routes: ${ROUTE_TEMPLATES.join(', ')}`),
      template: 'unmatched',
    };
  }

  return { server, metrics };
}

function statusBody(source: ApiSource): unknown {
  const status = source.status();
  return { ...status, nodes: nodesBody(source) };
}

function nodesBody(source: ApiSource): unknown {
  const stats = source.nodeStats();
  return {
    exits: stats.exits,
    relays: stats.relays,
    relays_published: stats.relaysPublished,
    refreshed_at: stats.refreshedAt,
    stale: stats.stale,
  };
}

function error(status: number, code: string, message: string, headers?: Record<string, string>): Reply {
  return { status, body: { error: { code, message } }, ...(headers ? { headers } : {}) };
}

function send(response: ServerResponse, reply: Reply): void {
  const text = reply.text ?? `${JSON.stringify(reply.body, null, 2)}\n`;
  response.writeHead(reply.status, { 'content-type': 'application/json; charset=utf-8', ...reply.headers });
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
