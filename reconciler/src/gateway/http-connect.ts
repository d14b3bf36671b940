import { STATUS_CODES, type IncomingMessage } from 'node:http';
import { Cancel } from './cancel.js';
import type { Socket } from 'node:net';
import { dialRoute } from './dial-route.js';
import { recordConnectionEnd, targetText, type GatewayContext, type RoutingView } from './gateway-context.js';
import { UNKNOWN_ROUTE } from './gateway-metrics.js';
import { parseConnectTarget } from './http-target.js';
import { authenticate, parseProxyAuthorization, PROXY_AUTHENTICATE, proxyAuthBody } from './proxy-auth.js';
import type { Route, Target } from './route-types.js';
import { runTunnel } from './tunnel.js';
import { answerRaw } from './http-answers.js';

/**
 * `CONNECT host:port`: the route from `Proxy-Authorization`, a tunnel dial, `200 Connection established`, then
 * bytes both ways; `head` (what the client sent after the CONNECT head, e.g. its TLS hello) goes first.
 */
export async function serveConnect(
  context: GatewayContext,
  view: RoutingView,
  req: IncomingMessage,
  client: Socket,
  head: Buffer,
): Promise<void> {
  const startedAt = performance.now();
  client.on('error', () => undefined); // a reset client is reported by the tunnel's close
  const base = { protocol: 'connect', member: null, bytesUp: 0, bytesDown: 0, startedAt } as const;
  const parsed = parseConnectTarget(req.url ?? '');
  if (!parsed.ok) {
    answerRaw(client, '400 Bad Request', `torfleet gateway: ${parsed.message}.`);
    recordConnectionEnd(context, { ...base, route: UNKNOWN_ROUTE, result: 'bad-request', target: null });
    return;
  }
  const target = targetText(parsed.target, view.redactor);
  const auth = authenticate(view.table, parseProxyAuthorization(req.headers['proxy-authorization']), view.redactor);
  if (!auth.ok) {
    const body = proxyAuthBody(view.table, auth.message);
    answerRaw(client, '407 Proxy Authentication Required', body, [`Proxy-Authenticate: ${PROXY_AUTHENTICATE}`]);
    recordConnectionEnd(context, { ...base, route: UNKNOWN_ROUTE, result: auth.result, target, message: auth.message });
    return;
  }
  // Returned, not awaited: this frame ends here, so `req` (its headers) is not kept for the tunnel's life.
  return tunnel(
    context,
    view,
    client,
    head,
    { route: auth.route, session: auth.session, label: auth.label },
    {
      target: parsed.target,
      text: target,
      startedAt,
    },
  );
}

async function tunnel(
  context: GatewayContext,
  view: RoutingView,
  client: Socket,
  head: Buffer,
  auth: { readonly route: Route; readonly session: string | null; readonly label: string },
  to: { readonly target: Target; readonly text: string; readonly startedAt: number },
): Promise<void> {
  const base = { protocol: 'connect', member: null, bytesUp: 0, bytesDown: 0, startedAt: to.startedAt } as const;
  const target = to.text;
  const cancel = new Cancel();
  client.once('close', () => {
    cancel.cancel();
  });
  const dial = await dialRoute(context, view, {
    route: auth.route,
    session: auth.session,
    label: auth.label,
    target: to.target,
    purpose: 'tunnel',
    cancel,
  });
  if (!dial.ok) {
    const status = `${dial.answer.httpStatus} ${STATUS_CODES[dial.answer.httpStatus] ?? 'Bad Gateway'}`;
    answerRaw(client, status, `torfleet gateway: ${dial.message}.`);
    recordConnectionEnd(context, { ...base, route: auth.label, result: dial.result, target, message: dial.message });
    return;
  }
  client.write('HTTP/1.1 200 Connection established\r\n\r\n');
  const ended = await runTunnel(context, client, dial.dialed.socket, head, auth.label);
  recordConnectionEnd(context, {
    ...base,
    route: auth.label,
    result: ended.outcome === 'error' ? 'error' : 'ok',
    member: dial.dialed.member.id,
    bytesUp: ended.bytesUp,
    bytesDown: ended.bytesDown,
    target,
  });
}
