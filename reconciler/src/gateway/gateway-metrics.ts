import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export const PROTOCOLS = ['http', 'connect', 'socks5'] as const;
export type GatewayProtocol = (typeof PROTOCOLS)[number];

/**
 * How one proxied connection (a CONNECT or SOCKS5 tunnel, or one plain HTTP request) ended. `auth`: wrong or
 * missing token; `unknown-route` / `no-default`: no route for the username; `bad-request`: a request the gateway
 * does not serve (malformed, BIND/UDP, an `https://` absolute URI); `overload`: refused at the connection limit;
 * the dial failures as in dial-types.ts; `error`: the target or member broke the exchange after it had started.
 */
export const RESULTS = [
  'ok',
  'auth',
  'unknown-route',
  'no-default',
  'bad-request',
  'overload',
  'no-member',
  'refused',
  'timeout',
  'target-unreachable',
  'upstream-auth',
  'aborted',
  'error',
] as const;
export type GatewayResult = (typeof RESULTS)[number];

/** `up`: client → target; `down`: target → client. */
export type Direction = 'up' | 'down';

/** The route label of anything not tied to a route of the table (the client's own text never becomes a label). */
export const UNKNOWN_ROUTE = 'unknown';

export interface GatewayMetrics {
  /** Creates every series of `routes` (and `unknown`) at 0; series of routes gone from the table stay. */
  initRoutes(routes: readonly string[]): void;
  connection(route: string, protocol: GatewayProtocol, result: GatewayResult): void;
  tunnelOpened(route: string): void;
  tunnelClosed(route: string): void;
  bytes(route: string, direction: Direction, count: number): void;
  connectDuration(route: string, seconds: number): void;
  /** The Prometheus text exposition, and its content type. */
  exposition(): Promise<{ readonly contentType: string; readonly text: string }>;
}

/** The contract's gateway metrics in a registry of their own (no default process metrics: `torfleet run` has those). */
export function createGatewayMetrics(registry: Registry = new Registry()): GatewayMetrics {
  const registers = [registry];
  const connections = new Counter({
    name: 'torfleet_gateway_connections_total',
    help: 'Proxied connections (CONNECT and SOCKS5 tunnels, plain HTTP requests) by route, protocol and result.',
    labelNames: ['route', 'protocol', 'result'],
    registers,
  });
  const active = new Gauge({
    name: 'torfleet_gateway_active_tunnels',
    help: 'Open connections to a route member (tunnels, and plain HTTP requests in flight).',
    labelNames: ['route'],
    registers,
  });
  const bytes = new Counter({
    name: 'torfleet_gateway_bytes_total',
    help: 'Bytes carried, by route and direction (up: client to target, down: target to client).',
    labelNames: ['route', 'direction'],
    registers,
  });
  const duration = new Histogram({
    name: 'torfleet_gateway_connect_duration_seconds',
    help: 'Time from the start of a dial until the tunnel (or the upstream connection) was up, by route.',
    labelNames: ['route'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers,
  });
  const known = new Set<string>();
  const metrics: GatewayMetrics = {
    initRoutes(routes) {
      for (const route of [UNKNOWN_ROUTE, ...routes]) {
        if (known.has(route)) continue;
        known.add(route);
        for (const protocol of PROTOCOLS) for (const result of RESULTS) connections.inc({ route, protocol, result }, 0);
        active.set({ route }, 0);
        bytes.inc({ route, direction: 'up' }, 0);
        bytes.inc({ route, direction: 'down' }, 0);
        duration.zero({ route });
      }
    },
    connection(route, protocol, result) {
      connections.inc({ route, protocol, result });
    },
    tunnelOpened(route) {
      active.inc({ route });
    },
    tunnelClosed(route) {
      active.dec({ route });
    },
    bytes(route, direction, count) {
      if (count > 0) bytes.inc({ route, direction }, count);
    },
    connectDuration(route, seconds) {
      duration.observe({ route }, seconds);
    },
    async exposition() {
      return { contentType: registry.contentType, text: await registry.metrics() };
    },
  };
  metrics.initRoutes([]);
  return metrics;
}
