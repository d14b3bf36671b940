import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { createGatewayMetrics, PROTOCOLS, RESULTS, UNKNOWN_ROUTE, type GatewayMetrics } from './gateway-metrics.js';

test('every series of a route exists at 0 once the route is known; promtool accepts the exposition', async () => {
  const metrics = createGatewayMetrics();
  metrics.initRoutes(['us-strict', 'provider']);
  metrics.connection('us-strict', 'socks5', 'ok');
  metrics.bytes('us-strict', 'down', 42);
  metrics.connectDuration('provider', 0.02);
  metrics.tunnelOpened('provider');
  const { text, contentType } = await metrics.exposition();
  assert.match(contentType, /^text\/plain/);
  for (const route of ['us-strict', 'provider', 'unknown']) {
    assert.match(
      text,
      new RegExp(`torfleet_gateway_connections_total\\{route="${route}",protocol="connect",result="refused"\\} 0`),
    );
    assert.match(text, new RegExp(`torfleet_gateway_bytes_total\\{route="${route}",direction="up"\\} 0`));
    assert.match(text, new RegExp(`torfleet_gateway_connect_duration_seconds_count\\{route="${route}"\\} \\d`));
  }
  assert.match(text, /connections_total\{route="us-strict",protocol="socks5",result="ok"\} 1/);
  assert.match(text, /bytes_total\{route="us-strict",direction="down"\} 42/);
  assert.match(text, /active_tunnels\{route="provider"\} 1/);
  assert.doesNotMatch(text, /process_|nodejs_/, 'no default metrics');
  const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  assert.equal(check.status, 0, check.stdout + check.stderr);
});

test('initRoutes twice keeps the counts (a table update)', async () => {
  const metrics = createGatewayMetrics();
  metrics.initRoutes(['a']);
  metrics.connection('a', 'http', 'ok');
  metrics.initRoutes(['a', 'b']);
  const { text } = await metrics.exposition();
  assert.match(text, /connections_total\{route="a",protocol="http",result="ok"\} 1/);
  assert.match(text, /connections_total\{route="b",protocol="http",result="ok"\} 0/);
});

/** The gateway metrics as they were made with prom-client: the reference the exposition writer must match. */
function promClientMetrics(): GatewayMetrics {
  const registry = new Registry();
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
    connection: (route, protocol, result) => {
      connections.inc({ route, protocol, result });
    },
    tunnelOpened: (route) => {
      active.inc({ route });
    },
    tunnelClosed: (route) => {
      active.dec({ route });
    },
    bytes(route, direction, count) {
      if (count > 0) bytes.inc({ route, direction }, count);
    },
    connectDuration: (route, seconds) => {
      duration.observe({ route }, seconds);
    },
    async exposition() {
      return { contentType: registry.contentType, text: await registry.metrics() };
    },
  };
  metrics.initRoutes([]);
  return metrics;
}

type Step = (metrics: GatewayMetrics) => void;

const WRITER_CASES: readonly { readonly name: string; readonly steps: readonly Step[] }[] = [
  { name: 'fresh: only the unknown route', steps: [] },
  {
    name: 'routes, connections, tunnels and bytes',
    steps: [
      (m) => {
        m.initRoutes(['us-strict', 'provider']);
      },
      (m) => {
        m.connection('us-strict', 'socks5', 'ok');
      },
      (m) => {
        m.connection('us-strict', 'socks5', 'ok');
      },
      (m) => {
        m.connection('unknown', 'http', 'unknown-route');
      },
      (m) => {
        m.connection('provider', 'connect', 'timeout');
      },
      (m) => {
        m.tunnelOpened('provider');
      },
      (m) => {
        m.tunnelOpened('provider');
      },
      (m) => {
        m.tunnelClosed('provider');
      },
      (m) => {
        m.bytes('us-strict', 'down', 42);
      },
      (m) => {
        m.bytes('us-strict', 'down', 0);
      },
      (m) => {
        m.bytes('us-strict', 'up', -3);
      },
      (m) => {
        m.bytes('provider', 'up', 2 ** 40);
      },
      (m) => {
        m.bytes('provider', 'up', 2 ** 40 + 1);
      },
    ],
  },
  {
    name: 'histogram buckets at and around their bounds, sum in float order',
    steps: [
      (m) => {
        m.initRoutes(['a']);
      },
      ...[0, 0.005, 0.0051, 0.01, 0.1, 0.2, 0.30000000000000004, 1, 2.5, 5.0001, 10, 30, 30.0001, 3600].map(
        (seconds): Step =>
          (m) => {
            m.connectDuration('a', seconds);
          },
      ),
    ],
  },
  {
    name: 'label values escaped: quote, backslash, newline',
    steps: [
      (m) => {
        m.initRoutes(['a"b', 'back\\slash', 'new\nline']);
      },
      (m) => {
        m.connection('a"b', 'http', 'ok');
      },
      (m) => {
        m.bytes('back\\slash', 'up', 7);
      },
      (m) => {
        m.connectDuration('new\nline', 0.07);
      },
      (m) => {
        m.tunnelOpened('"');
      },
    ],
  },
  {
    name: 'a proxy route used before the table names it (its series appear at first use, in that order)',
    steps: [
      (m) => {
        m.bytes('pool-3', 'down', 10);
      },
      (m) => {
        m.connectDuration('pool-3', 0.3);
      },
      (m) => {
        m.connection('pool-3', 'connect', 'ok');
      },
      (m) => {
        m.tunnelOpened('pool-3');
      },
      (m) => {
        m.bytes('pool-3', 'up', 5);
      },
      (m) => {
        m.initRoutes(['pool-3']);
      }, // as prom-client: the gauge set to 0, the histogram zeroed, counters kept
      (m) => {
        m.connectDuration('pool-3', 0.01);
      },
    ],
  },
  {
    name: 'initRoutes again keeps counts; a gauge below zero; a route gone from the table stays',
    steps: [
      (m) => {
        m.initRoutes(['a', 'b']);
      },
      (m) => {
        m.connection('a', 'http', 'ok');
      },
      (m) => {
        m.tunnelClosed('b');
      },
      (m) => {
        m.initRoutes(['b', 'c']);
      },
      (m) => {
        m.connection('c', 'socks5', 'error');
      },
      (m) => {
        m.connectDuration('c', 0.5);
      },
    ],
  },
];

for (const { name, steps } of WRITER_CASES) {
  test(`the exposition is prom-client's for the same observations: ${name}`, async () => {
    const ours = createGatewayMetrics();
    const reference = promClientMetrics();
    for (const step of steps) {
      step(ours);
      step(reference);
    }
    assert.deepEqual(await ours.exposition(), await reference.exposition());
  });
}

test('a non-finite duration is refused, as prom-client refuses it', () => {
  for (const seconds of [Number.NaN, Number.POSITIVE_INFINITY]) {
    assert.throws(() => {
      createGatewayMetrics().connectDuration('a', seconds);
    }, TypeError);
    assert.throws(() => {
      promClientMetrics().connectDuration('a', seconds);
    }, TypeError);
  }
});
