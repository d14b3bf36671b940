import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { GatewayContext, RoutingView } from './gateway-context.js';
import { serveConnect } from './http-connect.js';
import { forwardHttp } from './http-forward.js';
import { servePage } from './gateway-pages.js';
import { answerRaw } from './http-answers.js';
import { UNKNOWN_ROUTE } from './gateway-metrics.js';

const CLIENT_ERROR_STATUS: Readonly<Record<string, string>> = {
  HPE_HEADER_OVERFLOW: '431 Request Header Fields Too Large',
  ERR_HTTP_REQUEST_TIMEOUT: '408 Request Timeout',
};
const USAGE_LINE = 'This is an HTTP and SOCKS5 proxy: curl -x http://ROUTE:TOKEN@HOST:PORT http://example.com/';

/**
 * The HTTP side: a node HTTP server that never listens; the gateway hands it the connections whose first byte is
 * not 0x05. Node answers what it cannot parse itself (400, 431 over `maxHeaderSize`, 408 after `headersTimeoutMs`).
 * `viewOf` gives the routes the connection was accepted under.
 */
export function createHttpInbound(context: GatewayContext, viewOf: (socket: Socket) => RoutingView): Server {
  const { limits, log } = context;
  const server = createServer({
    maxHeaderSize: limits.maxHeaderSize,
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: 0, // bodies may stream for long; the idle timeout bounds a silent one
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4))),
  });
  server.timeout = limits.idleTimeoutMs;
  // Node checks headersTimeout (the slowloris bound) from a timer it starts on 'listening'; this server never
  // listens itself, so it is told it does. `close()` stops that timer again.
  server.emit('listening');
  const failed = (where: string) => (error: unknown) => {
    log.error('gateway: unexpected failure', { where, error: error instanceof Error ? error.message : String(error) });
  };
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const view = viewOf(req.socket);
    const handled = req.url?.startsWith('/')
      ? servePage(context, view, req, res)
      : forwardHttp(context, view, req, res);
    handled.catch((error: unknown) => {
      failed('http request')(error);
      res.destroy();
    });
  });
  server.on('connect', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    serveConnect(context, viewOf(socket), req, socket, head).catch((error: unknown) => {
      failed('connect')(error);
      socket.destroy();
    });
  });
  // What node's parser refuses (the default answers, plus a count): 431 over maxHeaderSize, 408 at the header
  // deadline, 400 for anything unparsable; a reset or closed client gets nothing.
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    const status = CLIENT_ERROR_STATUS[error.code ?? ''] ?? '400 Bad Request';
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    context.metrics.connection(UNKNOWN_ROUTE, 'http', 'bad-request');
    log.debug('gateway: unparsable HTTP request', { code: error.code ?? null });
    answerRaw(socket, status, `torfleet gateway: ${status.slice(4)}. ${USAGE_LINE}`);
  });
  // `Upgrade` (WebSocket) over a plain proxy request is not forwarded: such clients tunnel with CONNECT.
  server.on('upgrade', (_req: IncomingMessage, socket: Socket) => {
    socket.on('error', () => undefined);
    answerRaw(socket, '501 Not Implemented', 'torfleet gateway: Upgrade is not forwarded; use CONNECT (a tunnel).');
  });
  return server;
}
