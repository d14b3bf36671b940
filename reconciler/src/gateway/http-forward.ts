import type { IncomingMessage, ServerResponse } from 'node:http';
import { Cancel } from './cancel.js';
import { dialRoute } from './dial-route.js';
import { recordConnectionEnd, targetText, type GatewayContext, type RoutingView } from './gateway-context.js';
import { UNKNOWN_ROUTE, type GatewayResult } from './gateway-metrics.js';
import { endToEndHeaders, hasHeader } from './hop-headers.js';
import { answerProxyAuth, answerText } from './http-answers.js';
import { parseAbsoluteTarget } from './http-target.js';
import { bodiless, clientKeepsAlive, retryable } from './keep-alive-rules.js';
import { exchangeOver, type ExchangeEnd } from './member-exchange.js';
import { idleMemberOf, type MemberConnection, type MemberWay } from './member-slot.js';
import { authenticate, parseProxyAuthorization, proxyAuthBody } from './proxy-auth.js';

/**
 * One absolute-form request (`GET http://HOST/path`), sent in absolute form with the dialer's
 * `Proxy-Authorization` when the member is an HTTP upstream, origin form otherwise. Hop-by-hop headers and the
 * client's `Proxy-Authorization` stay here; both bodies stream. The member connection is the client
 * connection's idle one when it `carries` this request (same route, session and target, or the same upstream),
 * else a fresh dial; after a complete keep-alive exchange it is kept for the client's next request (member-slot.ts).
 * A reused connection that fails before any response byte (the member closed it while idle) is replaced by a
 * fresh dial once, for an idempotent request without a body. Counted and logged once per request, as before.
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
  const cancel = new Cancel();
  const closed = new Promise<void>((resolve) => res.once('close', resolve));
  void closed.then(() => {
    cancel.cancel();
  });
  const way: MemberWay = { route: auth.route, session: auth.session, target: parsed.target };
  const idle = idleMemberOf(req.socket);
  const fresh = async (): Promise<MemberConnection | string> => {
    const dial = await dialRoute(context, view, {
      ...way,
      label: auth.label,
      purpose: 'http-forward',
      cancel,
    });
    if (!dial.ok) {
      answerText(res, dial.answer.httpStatus, `torfleet gateway: ${dial.message}.`, { draining });
      recordConnectionEnd(context, { ...base, route: auth.label, result: dial.result, target, message: dial.message });
      return dial.message;
    }
    const { socket } = dial.dialed;
    socket.on('error', () => undefined); // reported through the request's own 'error'
    socket.setTimeout(context.limits.idleTimeoutMs, () => socket.destroy());
    return { ...dial.dialed, ...way };
  };
  const kept = idle.take(way);
  kept?.socket.setTimeout(context.limits.idleTimeoutMs);
  let connection = kept ?? (await fresh());
  if (typeof connection === 'string') return;
  const keepAlive = !draining && clientKeepsAlive(req.httpVersion, req.headers.connection);
  const exchange = (over: MemberConnection): Promise<ExchangeEnd> => {
    const headers = endToEndHeaders(req.rawHeaders);
    if (!hasHeader(headers, 'host')) headers.push('Host', parsed.host);
    if (over.absoluteForm && over.proxyAuthorization !== null)
      headers.push('Proxy-Authorization', over.proxyAuthorization);
    const path = over.absoluteForm ? parsed.absolute : parsed.origin;
    const method = req.method ?? 'GET';
    return exchangeOver(over, req, res, {
      method,
      path,
      headers,
      keepAlive,
      bodiless: bodiless(req.headers),
      closeClient: draining,
    });
  };
  const releases: (() => void)[] = [];
  const bytes = { up: 0, down: 0 };
  let readAtEnd = 0;
  const { label } = auth;
  const finish = (): void => {
    for (const release of releases) release();
    context.metrics.tunnelClosed(label);
    context.metrics.bytes(label, 'up', bytes.up);
    context.metrics.bytes(label, 'down', bytes.down);
  };
  const run = async (over: MemberConnection): Promise<ExchangeEnd> => {
    releases.push(context.open.add(over.socket, req.socket));
    const [written, read] = [over.socket.bytesWritten, over.socket.bytesRead];
    const end = await exchange(over);
    readAtEnd = over.socket.bytesRead; // no read can come between the exchange's end and this line
    bytes.up += over.socket.bytesWritten - written;
    bytes.down += readAtEnd - read;
    return end;
  };
  context.metrics.tunnelOpened(auth.label);
  let end = await run(connection);
  if (kept !== null && !end.responded && end.error !== null && !res.destroyed && retryable(req.method, req.headers)) {
    const retry = await fresh();
    if (typeof retry === 'string') {
      finish();
      return;
    }
    connection = retry;
    end = await run(connection);
  }
  if (!end.responded && end.error !== null) {
    const message = view.redactor.redact(end.error);
    answerText(res, 502, `torfleet gateway: the target or proxy broke the exchange: ${message}.`, { draining });
  }
  await closed;
  const ok = end.error === null && res.writableFinished;
  if (ok && end.reusable && keepAlive && !context.draining())
    idle.keep(connection, req.socket, context.limits.keepAliveTimeoutMs, readAtEnd);
  else connection.socket.destroy();
  finish();
  const result: GatewayResult = ok ? 'ok' : 'error';
  recordConnectionEnd(context, {
    ...base,
    route: auth.label,
    result,
    member: connection.member.id,
    bytesUp: bytes.up,
    bytesDown: bytes.down,
    target,
  });
}
