import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import Docker from 'dockerode';
import { removeTestContainers } from '../testing/docker-cleanup.js';
import { cleanEnv, TORFLEET_BIN } from '../testing/run-cli.js';
import { tempDir } from '../testing/temp-dir.js';
import { startPrivateTorNetwork, type PrivateTorNetwork } from '../tor-network/private-tor-network.js';
import { waitFor } from '../wait-for.js';

/**
 * Issue 8 item 10 end to end: the only US exit's proxy fails its egress checks while the exit is fine (the check
 * URL is a loopback port where nothing listens). torfleet keeps the proxy (no `no_eligible_exit`, no Shortfall),
 * shows it unhealthy with its tor's bootstrap state and log tail in GET /proxies, and shows it healthy again
 * once the check URL answers.
 */
const docker = new Docker();
const ID = `test-probe${process.pid.toString(36)}`;
const BASE = 31800; // this file's own port block: 31800-31899 (the network takes BASE+1 .. BASE+30)
const API = `127.0.0.1:${BASE + 40}`;
const US_PORT = BASE + 41;
const TARGET_PORT = BASE + 42; // the probe's check URL: nothing listens here at first
const dir = tempDir('e2e-probe');
let network: PrivateTorNetwork;
let service: ChildProcess | undefined;
let target: Server | undefined;

interface EgressView {
  result: string;
  address: string | null;
  message: string;
  healthy: boolean;
  consecutiveFailures: number;
  nextCheckAt: string;
  diagnosis: { bootstrap: { bootstrapProgress: number } | null; logTail: string[] } | null;
}
interface ProxyView {
  name: string;
  state: string;
  containerId: string | null;
  exit: { fingerprints: string[] };
  egress: EgressView | null;
}

const api = async <T>(route: string): Promise<T> => (await (await fetch(`http://${API}${route}`)).json()) as T;
const usProxy = async (): Promise<ProxyView | undefined> =>
  (await api<{ proxies: ProxyView[] }>('/proxies').catch(() => ({ proxies: [] }))).proxies.find(
    (p) => p.name === `${ID}-us-0`,
  );
const quarantinedExits = async (): Promise<number> =>
  Number(/^torfleet_quarantined_exits (\S+)$/m.exec(await (await fetch(`http://${API}/metrics`)).text())?.[1]);

describe('one failed start is not an outage', { concurrency: false, timeout: 600_000 }, () => {
  before(async () => {
    await removeTestContainers(docker, ID);
    network = await startPrivateTorNetwork(path.join(dir, 'tor'), BASE);
    const authorities = network.dirAuthorities.map((line) => `    - "${line}"`).join('\n');
    mkdirSync(path.join(dir, 'fleet'));
    writeFileSync(
      path.join(dir, 'fleet', 'fleet.yaml'),
      `apiVersion: torfleet/v1\nkind: Fleet\ntor:\n  testingNetwork: true\n  geoipFile: ${network.geoipFile}\n  dirAuthorities:\n${authorities}\npools:\n  - {name: ${ID}-us, geo: US, mode: strict, count: 1, basePort: ${US_PORT}}\n`,
    );
    service = spawn(process.execPath, [TORFLEET_BIN, 'run'], {
      env: cleanEnv({
        TORFLEET_INSTANCE: ID,
        TORFLEET_FLEET_FILE: path.join(dir, 'fleet', 'fleet.yaml'),
        TORFLEET_DB: path.join(dir, 'nodes.db'),
        TORFLEET_STATE_DIR: path.join(dir, 'state'),
        TORFLEET_NODE_SOURCE: 'consensus',
        TORFLEET_CONSENSUS_URL: network.consensusUrl,
        TORFLEET_GEOIP_FILE: network.geoipFile,
        TORFLEET_LISTEN: API,
        TORFLEET_RESYNC_INTERVAL: '5s',
        TORFLEET_PROBE_URL: `http://127.0.0.1:${TARGET_PORT}/`,
        TORFLEET_PROBE_INTERVAL: '2s',
        TORFLEET_PROBE_TIMEOUT: '5s',
      }),
      stdio: 'ignore',
    });
  });
  after(async () => {
    const current = service;
    if (current && current.exitCode === null && current.signalCode === null) {
      const exited = new Promise((resolve) => current.once('exit', resolve));
      current.kill('SIGTERM');
      await exited;
    }
    target?.close();
    await removeTestContainers(docker, ID);
    await network.stop();
  });

  test('checks fail while the only US exit is fine: the proxy stays, unhealthy, with its tor log tail', async () => {
    const first = await waitFor('the US proxy running', async () => {
      const view = await usProxy();
      return view?.state === 'running' ? view : undefined;
    });
    assert.deepEqual(first.exit.fingerprints, [network.exits.us.fingerprint]);
    // Its tor bootstraps and builds circuits through the exit; only the check URL is missing. Two such
    // failures set the exit aside: it is the pool's only candidate, so it is avoided, not removed.
    await waitFor(
      'the exit set aside after failed checks of a bootstrapped tor',
      async () => ((await quarantinedExits()) === 1 ? true : undefined),
      120_000,
    );
    const failing = await waitFor('more failed checks', async () => {
      const view = await usProxy();
      return (view?.egress?.consecutiveFailures ?? 0) >= 3 ? view : undefined;
    });
    assert.equal(failing.state, 'running');
    assert.equal(failing.containerId, first.containerId, 'the proxy was not deleted or replaced');
    assert.deepEqual(failing.exit.fingerprints, [network.exits.us.fingerprint]);
    const egress = failing.egress as EgressView;
    assert.deepEqual([egress.result, egress.healthy], ['failed', false]);
    assert.equal(egress.diagnosis?.bootstrap?.bootstrapProgress, 100);
    assert.ok(
      egress.diagnosis.logTail.some((line) => line.includes('Bootstrapped 100%')),
      egress.diagnosis.logTail.join('\n'),
    );
    assert.match(egress.message, /bootstrapped 100% \(done: Done\)/);
    const { passes } = await api<{
      passes: { reason: string; shortfalls: unknown[]; changes: { action: string; reason: string }[] }[];
    }>('/status');
    assert.ok(
      passes.every((pass) => pass.shortfalls.length === 0 && pass.changes.every((c) => c.action !== 'delete')),
      JSON.stringify(passes.map((pass) => [pass.reason, pass.changes])),
    );
  });

  test('the check URL answers again: the proxy is healthy and its exit no longer set aside', async () => {
    target = createServer((request, response) => {
      response
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ IP: request.socket.remoteAddress?.replace(/^::ffff:/, '') }));
    });
    await new Promise<void>((resolve) => target?.listen(TARGET_PORT, '127.0.0.1', resolve));
    const healthy = await waitFor(
      'a passing check',
      async () => {
        const view = await usProxy();
        return view?.egress?.healthy ? view : undefined;
      },
      60_000,
    );
    assert.deepEqual(
      [healthy.egress?.result, healthy.egress?.address, healthy.egress?.consecutiveFailures, healthy.egress?.diagnosis],
      ['ok', network.exits.us.address, 0, null],
    );
    assert.equal(await quarantinedExits(), 0);
  });
});
