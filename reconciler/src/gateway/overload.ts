import type { Socket } from 'node:net';
import { recordConnectionEnd, type GatewayContext } from './gateway-context.js';
import { UNKNOWN_ROUTE } from './gateway-metrics.js';
import { METHOD_REFUSED, SOCKS_VERSION } from './socks5-wire.js';

const BUSY = 'torfleet gateway: at its connection limit (maxConnections); try again later.\n';

/** A connection over `maxConnections`: a 503 (HTTP) or "no acceptable method" (SOCKS5), then closed. */
export function refuseOverload(context: GatewayContext, socket: Socket, socks: boolean): void {
  const answer = socks
    ? Buffer.from([SOCKS_VERSION, METHOD_REFUSED])
    : `HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${BUSY.length}\r\n` +
      `Retry-After: 1\r\nConnection: close\r\n\r\n${BUSY}`;
  socket.end(answer);
  socket.resume(); // read and drop the rest so the close is not a reset
  recordConnectionEnd(context, {
    route: UNKNOWN_ROUTE,
    protocol: socks ? 'socks5' : 'http',
    result: 'overload',
    member: null,
    bytesUp: 0,
    bytesDown: 0,
    startedAt: performance.now(),
    target: null,
  });
}
