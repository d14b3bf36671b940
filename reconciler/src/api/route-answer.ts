import type { IncomingMessage } from 'node:http';
import { errorMessage, TorfleetError } from '../errors.js';
import type { Logger } from '../logger.js';
import { authorized } from './bearer-token.js';
import { carriesBody, errorReply, ALLOW, GITOPS, type Reply } from './replies.js';
import { parseRequestTarget } from './request-target.js';
import { INVALID_ROUTE, ROUTE_TEMPLATES, UNMATCHED_ROUTE, type Route } from './routes.js';

/** A request's reply and the route template that labels it in the metrics. */
export interface RouteAnswer {
  readonly reply: Reply;
  readonly template: string;
}

/**
 * Finds the request's route and asks it for the reply: 400 for a bad target or a missing Host, 401 without
 * the token (`expected` is its digest; undefined: no token needed), 405 for another method, 413 for a body.
 * Never rejects: a failure inside a route becomes that route's 503 or 500.
 */
export async function answerRequest(
  request: IncomingMessage,
  routes: readonly Route[],
  expected: Buffer | undefined,
  log: Logger,
): Promise<RouteAnswer> {
  const target = parseRequestTarget(request.url ?? '');
  if (!target.ok) return { reply: errorReply(400, 'bad_request', target.message), template: INVALID_ROUTE };
  if (request.httpVersion === '1.1' && request.headers.host === undefined) {
    return {
      reply: errorReply(400, 'bad_request', 'an HTTP/1.1 request needs a Host header; send "Host: ADDRESS:PORT"'),
      template: INVALID_ROUTE,
    };
  }
  for (const route of routes) {
    const match = route.pattern.exec(target.path);
    if (!match) continue;
    if (!route.open && expected && !authorized(request, expected)) {
      return {
        reply: errorReply(401, 'unauthorized', 'this API needs "Authorization: Bearer <TORFLEET_API_TOKEN>"'),
        template: route.template,
      };
    }
    const method = request.method === 'HEAD' ? 'GET' : (request.method ?? 'GET');
    const handler = route.methods[method];
    if (!handler)
      return {
        reply: errorReply(405, 'method_not_allowed', `${method} is not allowed on ${route.template}; ${GITOPS}`, {
          Allow: ALLOW,
        }),
        template: route.template,
      };
    if (method === 'GET' && carriesBody(request)) {
      return {
        reply: errorReply(
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
      return { reply: failureReply(failure, route.template, log), template: route.template };
    }
  }
  return {
    reply: errorReply(404, 'not_found', `no route ${shorten(target.path)}; routes: ${ROUTE_TEMPLATES.join(', ')}`),
    template: UNMATCHED_ROUTE,
  };
}

/** A dependency that is away (a typed error: Docker down, the node database unreadable) is a 503; a bug a 500. */
function failureReply(failure: unknown, template: string, log: Logger): Reply {
  if (failure instanceof TorfleetError) {
    log.warn('api route unavailable', { route: template, code: failure.code, error: errorMessage(failure) });
    return errorReply(503, 'unavailable', errorMessage(failure));
  }
  log.error('api request failed', { route: template, error: errorMessage(failure) });
  return errorReply(500, 'internal', 'internal error; see the reconciler log');
}

function shorten(text: string): string {
  return text.length > 80 ? `${text.slice(0, 80)}...` : text;
}
