import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Secret } from '../fleet/secret.js';
import { createLogger } from '../logger.js';
import { startCountingOrigin, proxyClient, type CountingOrigin } from '../testing/counting-origin.js';
import { startMicrosocks, startTinyproxy, type ProxyDaemon } from '../testing/proxy-daemons.js';
import { connectTo } from '../testing/gateway-clients.js';
import { waitFor } from '../wait-for.js';
import { createFleetDialer } from './fleet-dialer.js';
import { createGateway, type Gateway } from './gateway.js';
import { createGatewayMetrics } from './gateway-metrics.js';
import type { Route, RouteTable, UpstreamMember } from './route-types.js';

/**
 * Reuse through real members and the real dialer: a SOCKS5 upstream (microsocks: the tunnel is to one target)
 * and an HTTP upstream (tinyproxy, absolute form: whatever it does with its client connection, every answer arrives).
 */
const TOKEN = 'peers-T0ken-88';
const upstream = (id: string, protocol: 'http' | 'socks5', port: number): UpstreamMember => ({
  kind: 'upstream',
  id,
  protocol,
  host: '127.0.0.1',
  port,
  auth: null,
});

describe('member connection reuse through microsocks and tinyproxy', () => {
  let origin: CountingOrigin;
  let socks: ProxyDaemon;
  let http: ProxyDaemon;
  let gateway: Gateway;
  let port = 0;
  let silent: Server;
  const silentSockets: Socket[] = [];
  const lines: string[] = [];
  const dir = mkdtempSync(path.join(tmpdir(), 'torfleet-reuse-'));
  const auth = (user: string): string => `Basic ${Buffer.from(`${user}:${TOKEN}`).toString('base64')}`;

  before(async () => {
    origin = await startCountingOrigin();
    silent = createServer((socket) => {
      socket.on('error', () => undefined);
      socket.resume(); // reads (and so sees the gateway's FIN) but never answers the SOCKS5 greeting
      silentSockets.push(socket);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const silentPort = (silent.address() as AddressInfo).port;
    socks = await startMicrosocks();
    http = await startTinyproxy(dir, 'reuse', null);
    const routes = new Map<string, Route>([
      ['socks', { name: 'socks', kind: 'upstream', members: [upstream('socks', 'socks5', socks.port)] }],
      ['web', { name: 'web', kind: 'upstream', members: [upstream('web', 'http', http.port)] }],
      ['silent', { name: 'silent', kind: 'upstream', members: [upstream('silent', 'socks5', silentPort)] }],
    ]);
    const table: RouteTable = {
      lookup: (name) => routes.get(name),
      names: () => [...routes.keys()],
      defaultRoute: null,
      token: new Secret(TOKEN),
      corporate: null,
    };
    const log = createLogger((line) => lines.push(line), 'debug');
    const dialer = createFleetDialer({
      health: { usable: () => true },
      now: Date.now,
      random: Math.random,
      connectTimeoutMs: 60_000, // longer than any wait here: a dial that ends did so by its abort
      maxAttempts: 1,
      log,
    });
    gateway = createGateway({ table, dialer, log, metrics: createGatewayMetrics() });
    await new Promise<void>((resolve) => gateway.server.listen(0, '127.0.0.1', resolve));
    port = (gateway.server.address() as AddressInfo).port;
  });

  after(async () => {
    await gateway.drain(0);
    await socks.stop();
    await http.stop();
    await origin.close();
    for (const socket of silentSockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  test('over microsocks: one client, three requests, one origin connection; closed with the client', async () => {
    const client = proxyClient(port, auth('socks'));
    const accepted = origin.accepted();
    const bodies: string[] = [];
    for (const n of [1, 2, 3]) bodies.push((await client.send(`http://127.0.0.1:${origin.port}/s${n}`)).body);
    assert.equal(origin.accepted() - accepted, 1, bodies.join(', '));
    assert.equal(new Set(bodies.map((body) => body.split('#')[1])).size, 1);
    const second = proxyClient(port, auth('socks'));
    await second.send(`http://127.0.0.1:${origin.port}/other-client`);
    assert.equal(origin.accepted() - accepted, 2, 'another client: another member connection');
    client.close();
    second.close();
    await waitFor('every origin connection closed with the clients', () => origin.open() === 0);
  });

  test('over tinyproxy (absolute form): every request on one client connection answered', async () => {
    const client = proxyClient(port, auth('web'));
    for (const n of [1, 2, 3]) {
      const answer = await client.send(`http://127.0.0.1:${origin.port}/t${n}`);
      assert.equal(answer.status, 200);
      assert.match(answer.body, new RegExp(`^/t${n} #\\d+$`));
    }
    client.close();
    await waitFor('every origin connection closed', () => origin.open() === 0);
    assert.ok(!lines.join('\n').includes(TOKEN), 'the token is in no log line');
  });

  test('a client that leaves during the dial aborts it: the upstream connection closes, logged as aborted', async () => {
    const client = await connectTo(port);
    client.on('error', () => undefined);
    client.write(`GET http://127.0.0.1:9/x HTTP/1.1\r\nHost: x\r\nProxy-Authorization: ${auth('silent')}\r\n\r\n`);
    await waitFor('the dial reached the silent upstream', () => silentSockets.length === 1);
    client.destroy();
    await waitFor('the dial aborted: the upstream connection closed', () => silentSockets[0]?.closed === true);
    await waitFor('the request logged as aborted', () => lines.some((line) => line.includes('"result":"aborted"')));
  });
});
