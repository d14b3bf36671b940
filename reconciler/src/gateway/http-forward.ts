import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { dialRoute } from './dial-route.js';
import { recordConnectionEnd, targetText, type GatewayContext, type RoutingView } from './gateway-context.js';
import { UNKNOWN_ROUTE, type GatewayResult } from './gateway-metrics.js';
import { endToEndHeaders, hasHeader } from './hop-headers.js';
import { answerProxyAuth, answerText } from './http-answers.js';
import { parseAbsoluteTarget } from './http-target.js';
import { authenticate, parseProxyAuthorization, proxyAuthBody } from './proxy-auth.js';

/**
 * One absolute-form request (`GET http://HOST/path`): a fresh dial per request (`http-forward`), the request sent
 * over exactly that socket (no agent: nothing pooled, nothing reused by another client or after a CONNECT),
 * in absolute form with the dialer's `Proxy-Authorization` when the member is an HTTP upstream, origin form
 * otherwise. Hop-by-hop headers and the client's `Proxy-Authorization` stay here; both bodies stream.
 */
export async function forwardHttp(
  context: GatewayContext,
  view: RoutingView,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const startedAt = performance.now();
  const draining = context.draining();
  const parsed = parseAbsoluteTarget(req.url ?? '');
  const base = { protocol: 'http', member: null, bytesUp: 0, bytesDown: 0, startedAt } as const;
  if (!parsed.ok) {
    answerText(res, 400, `torfleet gateway: ${parsed.message}.`, { draining });
    recordConnectionEnd(context, { ...base, route: UNKNOWN_ROUTE, result: 'bad-request', target: null });
    return;
  }
  const target = targetText(parsed.target, view.redactor);
  const auth = authenticate(view.table, parseProxyAuthorization(req.headers['proxy-authorization']), view.redactor);
  if (!auth.ok) {
    answerProxyAuth(res, proxyAuthBody(view.table, auth.message), draining);
    recordConnectionEnd(context, { ...base, route: UNKNOWN_ROUTE, result: auth.result, target, message: auth.message });
    return;
  }
  const controller = new AbortController();
  const closed = new Promise<void>((resolve) => res.once('close', resolve));
  void closed.then(() => {
    controller.abort();
  });
  const dial = await dialRoute(context, view, {
    route: auth.route,
    session: auth.session,
    label: auth.label,
    target: parsed.target,
    purpose: 'http-forward',
    signal: controller.signal,
  });
  if (!dial.ok) {
    answerText(res, dial.answer.httpStatus, `torfleet gateway: ${dial.message}.`, { draining });
    recordConnectionEnd(context, { ...base, route: auth.label, result: dial.result, target, message: dial.message });
    return;
  }
  const { socket, member, absoluteForm, proxyAuthorization } = dial.dialed;
  const release = context.open.add(socket, req.socket);
  context.metrics.tunnelOpened(auth.label);
  socket.on('error', () => undefined); // reported through the request's own 'error'
  socket.setTimeout(context.limits.idleTimeoutMs, () => socket.destroy());
  const headers = endToEndHeaders(req.rawHeaders);
  if (!hasHeader(headers, 'host')) headers.push('Host', parsed.host);
  if (absoluteForm && proxyAuthorization !== null) headers.push('Proxy-Authorization', proxyAuthorization);
  const exchange = { broken: false };
  const outgoing = httpRequest({
    // No `agent` at all: node then uses exactly this socket (an `agent: false` would build a fresh Agent that
    // ignores createConnection and dials the target itself), never pools it, and asks `Connection: close`.
    createConnection: () => socket,
    setHost: false,
    method: req.method,
    path: absoluteForm ? parsed.absolute : parsed.origin,
    headers,
  });
  // The dialer hands the socket over paused (bytes after a handshake were put back): node's client has its
  // 'data' listener on it once 'socket' fires, so it may flow from then on.
  outgoing.once('socket', (attached) => {
    attached.resume();
  });
  outgoing.on('response', (incoming) => {
    res.writeHead(incoming.statusCode ?? 502, incoming.statusMessage, [
      ...endToEndHeaders(incoming.rawHeaders),
      ...(draining ? ['Connection', 'close'] : []),
    ]);
    incoming.pipe(res);
    incoming.on('error', () => res.destroy());
    incoming.on('close', () => {
      if (!incoming.complete) res.destroy(); // the member or target broke off mid-body: the client must see it
    });
  });
  outgoing.on('error', (error) => {
    exchange.broken = true;
    const message = view.redactor.redact(error.message);
    if (res.headersSent) res.destroy();
    else answerText(res, 502, `torfleet gateway: the target or proxy broke the exchange: ${message}.`, { draining });
  });
  req.pipe(outgoing);
  await closed;
  const result: GatewayResult = exchange.broken || !res.writableFinished ? 'error' : 'ok';
  socket.destroy();
  release();
  context.metrics.tunnelClosed(auth.label);
  context.metrics.bytes(auth.label, 'up', socket.bytesWritten);
  context.metrics.bytes(auth.label, 'down', socket.bytesRead);
  recordConnectionEnd(context, {
    ...base,
    route: auth.label,
    result,
    member: member.id,
    bytesUp: socket.bytesWritten,
    bytesDown: socket.bytesRead,
    target,
  });
}
