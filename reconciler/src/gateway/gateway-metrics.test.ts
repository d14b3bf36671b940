import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { createGatewayMetrics } from './gateway-metrics.js';

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
