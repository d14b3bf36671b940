import { TorfleetError } from '../errors.js';
import type { ApiSource } from './api-source.js';
import type { TorfleetMetrics } from './metrics.js';
import { nodesBody, readNodeStats, statusBody } from './node-answers.js';
import { filterProxies, sourceProxyViews, type ProxyView } from './proxy-view.js';
import { notReadyReason } from './readiness.js';
import { ALLOW, errorReply, GITOPS, type Reply } from './replies.js';

type Handler = (query: URLSearchParams, params: readonly string[]) => Promise<Reply> | Reply;

export interface Route {
  /** The template that labels metrics, never the raw path (no cardinality explosion). */
  readonly template: string;
  readonly pattern: RegExp;
  readonly methods: Readonly<Record<string, Handler>>;
  /** Answered without the bearer token (probes). */
  readonly open?: boolean;
}

export const ROUTE_TEMPLATES = ['/proxies', '/proxies/{name}', '/status', '/nodes', '/healthz', '/readyz', '/metrics'];
/** The route label of a path no route matches, and of a request no route could be read from. */
export const UNMATCHED_ROUTE = 'unmatched';
export const INVALID_ROUTE = 'invalid';

/** The contract's routes, in matching order; each answers from the source (and the metrics registry). */
export function apiRoutes(source: ApiSource, metrics: TorfleetMetrics): Route[] {
  const views = async (): Promise<ProxyView[]> => sourceProxyViews(source, await source.observed());
  return [
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
        POST: () => errorReply(405, 'read_only', `cannot create a proxy here: ${GITOPS}`, { Allow: ALLOW }),
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
            : errorReply(404, 'not_found', `no proxy named "${name ?? ''}" in the fleet`);
        },
        DELETE: () => errorReply(405, 'read_only', `cannot delete a proxy here: ${GITOPS}`, { Allow: ALLOW }),
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
            ? errorReply(503, 'node_db_unavailable', stats.message)
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
            : errorReply(503, 'not_live', liveness.message);
        },
      },
    },
    {
      template: '/readyz',
      pattern: /^\/readyz$/,
      open: true,
      methods: {
        GET: async () => {
          const why = await notReadyReason(source, views);
          return why === null ? { status: 200, body: { status: 'ready' } } : errorReply(503, 'not_ready', why);
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
          text: (await metrics.registry.metrics()) + ((await source.extraMetrics?.()) ?? ''),
          headers: { 'content-type': metrics.registry.contentType },
        }),
      },
    },
  ];
}
