import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { removeTestContainers } from '../testing/docker-cleanup.js';
import { cleanEnv, TORFLEET_BIN } from '../testing/run-cli.js';
import { sharedConsensusFile, sharedGeoIpFile } from '../testing/shared-data.js';
import { tempDir } from '../testing/temp-dir.js';
import { waitFor } from '../wait-for.js';

/**
 * `torfleet run` serving the broker over a real fleet (Docker runtime, tor with DisableNetwork: no traffic needed):
 * leases for every region form come from the fleet's own proxies, feedback and health, run's /metrics with the
 * broker's series (promtool clean), a restart keeps the leases, and no token in any output.
 */
const execute = promisify(execFile);
const docker = new Docker();
const ID = `test-brk${process.pid.toString(36)}`;
const BASE = 31450; // this file's ports: 31450-31499
const API = `127.0.0.1:${String(BASE)}`;
const BROKER = `http://127.0.0.1:${String(BASE + 1)}`;
const TOKEN = 'brk-run-token-5c1e0a77';
const dir = tempDir('run-broker');
const fleetFile = path.join(dir, 'fleet.yaml');
const tokensFile = path.join(dir, 'broker-tokens');
let service: ChildProcess | undefined;
let output = '';

const FLEET = `apiVersion: torfleet/v1
kind: Fleet
tor:
  disableNetwork: true
broker:
  regions:
    us-east-1: US
    eu-central-1: DE
pools:
  - {name: ${ID}-us, geo: US, mode: strict, count: 2, basePort: ${String(BASE + 10)}}
  - {name: ${ID}-de, geo: [DE], mode: rotating, count: 1, basePort: ${String(BASE + 20)}}
`;

const CONTENT_SECRET = 'run-content-secret-7f3e21a9';

function start(): ChildProcess {
  const child = spawn(process.execPath, [TORFLEET_BIN, 'run'], {
    env: cleanEnv({
      TORFLEET_INSTANCE: ID,
      TORFLEET_FLEET_FILE: fleetFile,
      TORFLEET_DB: path.join(dir, 'nodes.db'),
      TORFLEET_STATE_DIR: path.join(dir, 'state'),
      TORFLEET_NODE_SOURCE: 'consensus',
      TORFLEET_CONSENSUS_URL: sharedConsensusFile,
      TORFLEET_GEOIP_FILE: sharedGeoIpFile,
      TORFLEET_NODES_MAX_AGE: '3650d',
      TORFLEET_LISTEN: API,
      TORFLEET_BROKER_LISTEN: `127.0.0.1:${String(BASE + 1)}`,
      TORFLEET_BROKER_TOKENS_FILE: tokensFile,
      // The content jobs service too: its series must pass promtool beside the others.
      TORFLEET_TORRENT_SECRET: CONTENT_SECRET,
      TORFLEET_TORRENT_LISTEN: `127.0.0.1:${String(BASE + 2)}`,
      TORFLEET_TORRENT_PEER_PORT: String(BASE + 3),
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return child;
}

async function call(route: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${BROKER}/api/v1/proxy/${route}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const lease = (region: string, connectionType = 'rest') =>
  call('request', { exchange_id: 'binance', connection_type: connectionType, region, client_id: 'collector-1' });

async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null) return;
  const ended = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await ended;
}

before(async () => {
  await removeTestContainers(docker, ID);
  writeFileSync(fleetFile, FLEET);
  writeFileSync(tokensFile, `collector ${createHash('sha256').update(TOKEN).digest('hex')}\n`);
});

after(async () => {
  service?.kill('SIGKILL');
  await removeTestContainers(docker, ID);
});

describe('torfleet run with the broker', { concurrency: false, timeout: 240_000 }, () => {
  const US_PORTS = [BASE + 10, BASE + 11];
  let first: Record<string, unknown> = {};

  test('leases come from the fleet once the first pass is done, for every region form', async () => {
    service = start();
    await waitFor(
      'the broker to serve a lease',
      async () => ((await lease('US').catch(() => null))?.status === 200 ? true : undefined),
      180_000,
    );
    const us = await lease('US');
    first = us.body;
    const url = new URL(String(us.body.proxy_url));
    assert.equal(url.protocol, 'socks5h:');
    assert.ok(US_PORTS.includes(Number(url.port)), `a US proxy of the fleet: ${String(us.body.proxy_url)}`);
    const meta = us.body.metadata as Record<string, unknown>;
    assert.equal(url.username, meta.lease_id);
    assert.match(String(meta.proxy_id), new RegExp(`^${ID}-us-[01]$`));

    const sticky = await lease('US');
    assert.equal(sticky.body.strategy, 'sticky');
    assert.equal(sticky.body.proxy_url, us.body.proxy_url);

    for (const [region, port, label] of [
      ['DE', BASE + 20, 'DE'],
      ['eu-central-1', BASE + 20, 'eu-central-1'],
      [`${ID}-de`, BASE + 20, `${ID}-de`],
    ] as const) {
      const answer = await lease(region);
      assert.equal(answer.status, 200, region);
      assert.equal(new URL(String(answer.body.proxy_url)).port, String(port), region);
      assert.equal((answer.body.metadata as Record<string, unknown>).region, label);
    }
    const east = await lease('us-east-1', 'websocket');
    assert.equal(east.body.strategy, 'fewest_connections');
    assert.ok(US_PORTS.includes(Number(new URL(String(east.body.proxy_url)).port)));
    const none = await lease('JP');
    assert.deepEqual([none.status, none.body.proxy_url, none.body.fallback_policy], [200, null, 'fail']);
    const unknown = await lease('Atlantis');
    assert.equal(unknown.status, 400);
    assert.equal((unknown.body.error as Record<string, unknown>).field, 'region');
  });

  test('feedback is judged and the health view shows the fleet with its leases', async () => {
    const meta = first.metadata as Record<string, unknown>;
    const accepted = await call('feedback', [
      { lease_id: meta.lease_id, exchange_id: 'binance', event: 'result', success: true, latency_ms: 90 },
      { proxy_url: `socks5h://someone:hunter2-secret@127.0.0.1:${String(BASE + 20)}`, event: 'timeout' },
    ]);
    assert.deepEqual([accepted.status, accepted.body], [202, { accepted: 2, unmatched: 0 }]);
    const health = await call('health');
    const proxies = health.body.proxies as {
      proxy_id: string;
      leases: number;
      counts: { successes: number; faults: number };
    }[];
    assert.deepEqual(
      proxies.map((proxy) => proxy.proxy_id),
      [`${ID}-de-0`, `${ID}-us-0`, `${ID}-us-1`],
    );
    const byId = new Map(proxies.map((proxy) => [proxy.proxy_id, proxy]));
    assert.equal(byId.get(String(meta.proxy_id))?.counts.successes, 1);
    assert.equal(byId.get(`${ID}-de-0`)?.counts.faults, 1);
    assert.ok(proxies.reduce((sum, proxy) => sum + proxy.leases, 0) >= 3);
  });

  test("run's /metrics carries the broker's series and promtool accepts it all", async () => {
    const text = await (await fetch(`http://${API}/metrics`)).text();
    assert.match(text, /torfleet_broker_leases_total\{region="US",result="leased"\} 1/);
    assert.match(text, /torfleet_broker_leases_total\{region="US",result="sticky"\} 2/); // the first lease was asked for by the wait, then twice again
    assert.match(text, /torfleet_broker_feedback_events_total\{class="success"\} 1/);
    assert.match(text, new RegExp(`torfleet_broker_proxies\\{pool="${ID}-us",state="healthy"\\} 2`));
    assert.match(text, /^torfleet_torrent_jobs\{status="READY"\} 0$/m);
    assert.match(text, /^torfleet_torrent_active_peers 0$/m);
    assert.match(text, /^torfleet_torrent_fetch_duration_seconds_count\{result="ok"\} 0$/m);
    const file = path.join(dir, 'metrics.txt');
    writeFileSync(file, text);
    await execute('sh', ['-c', `promtool check metrics < ${file}`]);
    assert.doesNotMatch(text, /hunter2|brk-run-token/);
  });

  test('a restart of run keeps the leases: the same request gets the same lease and proxy', async () => {
    await stop(service);
    service = start();
    const again = await waitFor(
      'the restarted broker to lease',
      async () => {
        const answer = await lease('US').catch(() => null);
        return answer?.status === 200 ? answer : undefined;
      },
      180_000,
    );
    assert.equal(again.body.strategy, 'sticky');
    assert.equal(again.body.proxy_url, first.proxy_url);
  });

  test('no token and no reported password in any output', async () => {
    await stop(service);
    assert.ok(output.includes('broker listening'), output.slice(-2000));
    assert.ok(output.includes('content service listening'), output.slice(-2000));
    assert.doesNotMatch(output, /brk-run-token|hunter2/);
    assert.ok(!output.includes(CONTENT_SECRET), 'the content secret appeared in the output');
  });
});
