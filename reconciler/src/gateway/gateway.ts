import { createServer, type Server, type Socket } from 'node:net';
import { Cancel } from './cancel.js';
import type { Logger } from '../logger.js';
import type { Dialer } from './dial-types.js';
import type { GatewayContext, RoutingView } from './gateway-context.js';
import { DEFAULT_GATEWAY_LIMITS, type GatewayLimits } from './gateway-limits.js';
import type { GatewayMetrics } from './gateway-metrics.js';
import { createHttpInbound } from './http-inbound.js';
import { OpenTunnels } from './open-tunnels.js';
import { refuseOverload } from './overload.js';
import { Redactor } from './redact.js';
import type { RouteTable } from './route-types.js';
import { serveSocks5 } from './socks5-inbound.js';
import { SOCKS_VERSION } from './socks5-wire.js';

export interface GatewayOptions {
  readonly table: RouteTable;
  readonly dialer: Dialer;
  readonly log: Logger;
  readonly metrics: GatewayMetrics;
  /** Default: `tableRedactor(table)`. */
  readonly redactor?: Redactor;
  readonly limits?: Partial<GatewayLimits>;
}

export interface Gateway {
  /** Not listening yet: the caller listens (`server.listen(port, host)`). */
  readonly server: Server;
  /** New connections use `table` and `redactor`; open ones keep what they were accepted under. */
  update(table: RouteTable, redactor: Redactor): void;
  /** Stops accepting, waits up to `ms` for open tunnels and requests, then destroys what is left. */
  drain(ms: number): Promise<void>;
  openTunnels(): number;
}

/**
 * One port for HTTP (absolute-URI requests, CONNECT, the gateway's own pages) and SOCKS5: the first byte of each
 * connection decides (0x05: SOCKS5, anything else: HTTP).
 */
export function createGateway(options: GatewayOptions): Gateway {
  const limits: GatewayLimits = { ...DEFAULT_GATEWAY_LIMITS, ...options.limits };
  const stopping = new Cancel();
  let draining = false;
  let view: RoutingView = {
    table: options.table,
    redactor: options.redactor ?? tableRedactor(options.table),
  };
  options.metrics.initRoutes(options.table.names());
  const context: GatewayContext = {
    dialer: options.dialer,
    log: options.log,
    metrics: options.metrics,
    limits,
    open: new OpenTunnels(),
    stopping,
    draining: () => draining,
  };
  const views = new WeakMap<Socket, RoutingView>();
  const clients = new Set<Socket>();
  const http = createHttpInbound(context, (socket) => views.get(socket) ?? view);
  // TCP_NODELAY: a reply that leaves in two writes (a 1 KiB-buffer upstream) would otherwise wait for the
  // client's delayed ACK, 40 ms (seen on ~14 % of tunnels; the bench's sequential tunnels/s went 160 → 399).
  const server = createServer({ noDelay: true }, (socket) => {
    clients.add(socket);
    socket.on('close', () => clients.delete(socket));
    socket.on('error', () => undefined); // each handler reports what a failing client means for its exchange
    views.set(socket, view);
    const overloaded = clients.size > limits.maxConnections;
    const silent = (): void => {
      socket.destroy();
    };
    socket.setTimeout(limits.handshakeTimeoutMs, silent);
    socket.once('data', (first: Buffer) => {
      socket.setTimeout(0);
      socket.off('timeout', silent);
      socket.pause();
      socket.unshift(first);
      if (overloaded) refuseOverload(context, socket, first[0] === SOCKS_VERSION);
      else if (first[0] === SOCKS_VERSION) {
        serveSocks5(context, views.get(socket) ?? view, socket).catch((error: unknown) => {
          options.log.error('gateway: unexpected failure', { where: 'socks5', error: String(error) });
          socket.destroy();
        });
      } else {
        http.emit('connection', socket);
        socket.resume();
      }
    });
  });
  server.on('error', (error) => {
    // A listen() that fails is the caller's to report (GatewayService: one line, the address and why).
    if (server.listening) options.log.error('gateway: listening failed', { error: error.message });
  });
  return {
    server,
    update(table, redactor) {
      view = { table, redactor };
      options.metrics.initRoutes(table.names());
    },
    async drain(ms) {
      draining = true;
      server.close();
      http.close(); // idle keep-alive connections now, the header-deadline timer too; busy ones stay
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
      await Promise.race([context.open.whenEmpty(), deadline]);
      clearTimeout(timer);
      stopping.cancel();
      context.open.destroyAll();
      for (const socket of clients) socket.destroy();
      await context.open.whenEmpty(); // destroyed sockets close within a tick; their exchanges are then counted
    },
    openTunnels: () => context.open.size,
  };
}

/** A Redactor for every secret the table holds: the token, the corporate proxy's and each upstream's credentials. */
export function tableRedactor(table: RouteTable): Redactor {
  const upstreams = table
    .names()
    .flatMap((name) => table.lookup(name)?.members ?? [])
    .map((member) => (member.kind === 'upstream' ? member.auth : null));
  return new Redactor([table.token, table.corporate?.auth ?? null, ...upstreams]);
}
