import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { schemaErrors } from '../testing/api-schemas.js';
import { cleanEnv, TORFLEET_BIN } from '../testing/run-cli.js';
import { killRecordedTors } from '../testing/recorded-tors.js';
import { tempDir } from '../testing/temp-dir.js';
import { startPrivateTorNetwork, type PrivateTorNetwork } from '../tor-network/private-tor-network.js';
import { waitFor } from '../wait-for.js';

/**
 * The healthy path on the private Tor network (process runtime): a proxy whose tor bootstraps and whose egress
 * check passes shows `health.bootstrap: 100` with a circuit in GET /proxies, counts in torfleet_proxies_ready,
 * and makes /readyz ready; nothing is restarted.
 */
const BASE = 29800; // this file's port block: 29800-29899 (the network takes BASE+1 .. BASE+30)
const API = `127.0.0.1:${BASE + 40}`;
const NAME = 'torfleet-test-hl-ready-0';
const dir = tempDir('hl-ready');
const stateDir = path.join(dir, 'state');
let network: PrivateTorNetwork;
let service: ChildProcess | undefined;
let output = '';

interface View {
  name: string;
  health: { bootstrap: number | null; circuitEstablished: boolean; tag: string | null } | null;
  egress: { result: string } | null;
}
const get = async (route: string): Promise<{ status: number; text: string }> => {
  const response = await fetch(`http://${API}${route}`);
  return { status: response.status, text: await response.text() };
};
const metric = async (series: string): Promise<number> =>
  Number(
    (await get('/metrics')).text
      .split('\n')
      .find((line) => line.startsWith(`${series} `))
      ?.split(' ')[1],
  );

describe('a bootstrapped proxy is healthy, ready, and makes torfleet ready', { timeout: 300_000 }, () => {
  before(async () => {
    network = await startPrivateTorNetwork(path.join(dir, 'tor'), BASE);
    const authorities = network.dirAuthorities.map((line) => `    - "${line}"`).join('\n');
    const fleetFile = path.join(dir, 'fleet.yaml');
    writeFileSync(
      fleetFile,
      `apiVersion: torfleet/v1\nkind: Fleet\ntor:\n  testingNetwork: true\n  geoipFile: ${network.geoipFile}\n  dirAuthorities:\n${authorities}\npools:\n  - {name: torfleet-test-hl-ready, geo: US, mode: strict, count: 1, basePort: ${BASE + 41}}\n`,
    );
    service = spawn(process.execPath, [TORFLEET_BIN, 'run'], {
      env: cleanEnv({
        TORFLEET_RUNTIME: 'process',
        TORFLEET_INSTANCE: 'torfleet-test-hl-ready',
        TORFLEET_FLEET_FILE: fleetFile,
        TORFLEET_DB: path.join(dir, 'nodes.db'),
        TORFLEET_STATE_DIR: stateDir,
        TORFLEET_NODE_SOURCE: 'consensus',
        TORFLEET_CONSENSUS_URL: network.consensusUrl,
        TORFLEET_GEOIP_FILE: network.geoipFile,
        TORFLEET_LISTEN: API,
        TORFLEET_PROBE_URL: network.echoUrl,
        TORFLEET_PROBE_INTERVAL: '2s',
        TORFLEET_PROBE_TIMEOUT: '5s',
        TORFLEET_HEALTH_INTERVAL: '1s',
      }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    service.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    service.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  });
  after(async () => {
    const current = service;
    if (current && current.exitCode === null) {
      const exited = new Promise((resolve) => current.once('exit', resolve));
      current.kill('SIGTERM');
      await exited;
    }
    // The proxies outlive `run` (by design): end the tors this file started, by their recorded pids.
    killRecordedTors(stateDir);
    await network.stop();
  });

  test('health 100% with a circuit, egress ok, torfleet_proxies_ready 1, /readyz 200', async () => {
    const view = await waitFor(
      'the proxy bootstrapped with a passing egress check',
      async () => {
        const answer = await get('/proxies').catch(() => undefined);
        if (answer?.status !== 200) return undefined;
        const found = (JSON.parse(answer.text) as { proxies: View[] }).proxies.find((p) => p.name === NAME);
        return found?.health?.bootstrap === 100 && found.egress?.result === 'ok' ? found : undefined;
      },
      180_000,
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}; output:\n${output}`);
    });
    assert.deepEqual([view.health?.circuitEstablished, view.health?.tag], [true, 'done']);
    assert.deepEqual(schemaErrors('proxy', JSON.parse((await get(`/proxies/${NAME}`)).text)), []);
    assert.equal(await metric('torfleet_proxies_ready{geo_category="US"}'), 1);
    assert.equal(await metric('torfleet_proxies_ready{geo_category="NON_US"}'), 0);
    const ready = await get('/readyz');
    assert.equal(ready.status, 200, ready.text);
    assert.equal(await metric('torfleet_proxy_restarts_total{reason="bootstrap_stalled"}'), 0);
  });
});
