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

/** prom-client's Registry.PROMETHEUS_CONTENT_TYPE. */
export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const CONNECTIONS = {
  name: 'torfleet_gateway_connections_total',
  help: 'Proxied connections (CONNECT and SOCKS5 tunnels, plain HTTP requests) by route, protocol and result.',
};
const ACTIVE = {
  name: 'torfleet_gateway_active_tunnels',
  help: 'Open connections to a route member (tunnels, and plain HTTP requests in flight).',
};
const BYTES = {
  name: 'torfleet_gateway_bytes_total',
  help: 'Bytes carried, by route and direction (up: client to target, down: target to client).',
};
const DURATION = {
  name: 'torfleet_gateway_connect_duration_seconds',
  help: 'Time from the start of a dial until the tunnel (or the upstream connection) was up, by route.',
};
export const DURATION_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** One counter or gauge series: its label set, already in exposition form, and its value. */
interface Series {
  readonly labels: string;
  value: number;
}

interface HistogramSeries {
  readonly labels: string;
  /** Observations per bucket (not cumulative), in DURATION_BUCKETS order. */
  buckets: number[];
  sum: number;
  count: number;
}

/** Every series of one route, created on its first use (or by initRoutes). */
interface RouteSeries {
  /** By PROTOCOLS index × RESULTS.length + RESULTS index. */
  readonly connections: (Series | undefined)[];
  active: Series | undefined;
  up: Series | undefined;
  down: Series | undefined;
  duration: HistogramSeries | undefined;
}

const PROTOCOL_INDEX = new Map<string, number>(PROTOCOLS.map((protocol, i) => [protocol, i]));
const RESULT_INDEX = new Map<string, number>(RESULTS.map((result, i) => [result, i]));

/** prom-client's escaping: `\` and newline in HELP text; those and `"` in a label value. */
const escapeHelp = (text: string): string => text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
const escapeLabel = (value: string): string => escapeHelp(value).replace(/"/g, '\\"');

/** prom-client's getValueAsString. */
function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'Nan';
  if (!Number.isFinite(value)) return value < 0 ? '-Inf' : '+Inf';
  return `${value}`;
}

/**
 * The contract's gateway metrics (no default process metrics: `torfleet run` has those), kept in plain
 * objects and written as the text prom-client's Registry gives for the same observations, byte for byte
 * (gateway-metrics.test.ts compares them): series in order of creation, labels in the order named. Not
 * prom-client itself: it costs the standalone gateway ~10 MB of RSS. Each route's series are looked up
 * once per call by the route's name (no label hashing), so bytes(), called per data chunk, is cheap.
 */
export function createGatewayMetrics(): GatewayMetrics {
  const routes = new Map<string, RouteSeries>();
  const connections: Series[] = [];
  const active: Series[] = [];
  const bytes: Series[] = [];
  const durations: HistogramSeries[] = [];
  const known = new Set<string>();

  const routeSeries = (route: string): RouteSeries => {
    let series = routes.get(route);
    if (!series) {
      series = { connections: [], active: undefined, up: undefined, down: undefined, duration: undefined };
      routes.set(route, series);
    }
    return series;
  };
  const connectionSeries = (route: string, protocol: GatewayProtocol, result: GatewayResult): Series => {
    const protocolIndex = PROTOCOL_INDEX.get(protocol);
    const resultIndex = RESULT_INDEX.get(result);
    if (protocolIndex === undefined || resultIndex === undefined) {
      throw new Error(`not a gateway protocol and result: ${protocol} ${result}`);
    }
    const of = routeSeries(route);
    const index = protocolIndex * RESULTS.length + resultIndex;
    let series = of.connections[index];
    if (!series) {
      series = { labels: `route="${escapeLabel(route)}",protocol="${protocol}",result="${result}"`, value: 0 };
      of.connections[index] = series;
      connections.push(series);
    }
    return series;
  };
  const activeSeries = (route: string): Series => {
    const of = routeSeries(route);
    if (!of.active) {
      of.active = { labels: `route="${escapeLabel(route)}"`, value: 0 };
      active.push(of.active);
    }
    return of.active;
  };
  const bytesSeries = (route: string, direction: Direction): Series => {
    const of = routeSeries(route);
    let series = direction === 'up' ? of.up : of.down;
    if (!series) {
      series = { labels: `route="${escapeLabel(route)}",direction="${direction}"`, value: 0 };
      if (direction === 'up') of.up = series;
      else of.down = series;
      bytes.push(series);
    }
    return series;
  };
  const durationSeries = (route: string): HistogramSeries => {
    const of = routeSeries(route);
    if (!of.duration) {
      of.duration = {
        labels: `route="${escapeLabel(route)}"`,
        buckets: DURATION_BUCKETS.map(() => 0),
        sum: 0,
        count: 0,
      };
      durations.push(of.duration);
    }
    return of.duration;
  };

  const metrics: GatewayMetrics = {
    initRoutes(names) {
      for (const route of [UNKNOWN_ROUTE, ...names]) {
        if (known.has(route)) continue;
        known.add(route);
        for (const protocol of PROTOCOLS) for (const result of RESULTS) connectionSeries(route, protocol, result);
        activeSeries(route).value = 0; // prom-client's set(0)
        bytesSeries(route, 'up');
        bytesSeries(route, 'down');
        const duration = durationSeries(route); // prom-client's zero(): the series starts again from nothing
        duration.buckets = DURATION_BUCKETS.map(() => 0);
        duration.sum = 0;
        duration.count = 0;
      }
    },
    connection(route, protocol, result) {
      connectionSeries(route, protocol, result).value += 1;
    },
    tunnelOpened(route) {
      activeSeries(route).value += 1;
    },
    tunnelClosed(route) {
      activeSeries(route).value -= 1;
    },
    bytes(route, direction, count) {
      if (count > 0) bytesSeries(route, direction).value += count;
    },
    connectDuration(route, seconds) {
      if (!Number.isFinite(seconds)) throw new TypeError(`Value is not a valid number: ${seconds}`);
      const series = durationSeries(route);
      const bucket = DURATION_BUCKETS.findIndex((bound) => seconds <= bound);
      series.sum += seconds;
      series.count += 1;
      if (bucket >= 0) series.buckets[bucket] = (series.buckets[bucket] ?? 0) + 1;
    },
    exposition() {
      return Promise.resolve({
        contentType: CONTENT_TYPE,
        text: `${[
          simple(CONNECTIONS, 'counter', connections),
          simple(ACTIVE, 'gauge', active),
          simple(BYTES, 'counter', bytes),
          histogram(DURATION, durations),
        ].join('\n\n')}\n`,
      });
    },
  };
  metrics.initRoutes([]);
  return metrics;
}

type MetricText = { readonly name: string; readonly help: string };

const head = (metric: MetricText, type: string): string[] => [
  `# HELP ${metric.name} ${escapeHelp(metric.help)}`,
  `# TYPE ${metric.name} ${type}`,
];

function simple(metric: MetricText, type: 'counter' | 'gauge', series: readonly Series[]): string {
  const lines = head(metric, type);
  for (const { labels, value } of series) lines.push(`${metric.name}{${labels}} ${formatValue(value)}`);
  return lines.join('\n');
}

function histogram(metric: MetricText, series: readonly HistogramSeries[]): string {
  const lines = head(metric, 'histogram');
  for (const { labels, buckets, sum, count } of series) {
    let cumulative = 0;
    DURATION_BUCKETS.forEach((bound, i) => {
      cumulative += buckets[i] ?? 0;
      lines.push(`${metric.name}_bucket{le="${bound}",${labels}} ${formatValue(cumulative)}`);
    });
    lines.push(`${metric.name}_bucket{le="+Inf",${labels}} ${formatValue(count)}`);
    lines.push(`${metric.name}_sum{${labels}} ${formatValue(sum)}`);
    lines.push(`${metric.name}_count{${labels}} ${formatValue(count)}`);
  }
  return lines.join('\n');
}
