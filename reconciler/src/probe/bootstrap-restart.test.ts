import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { schemaErrors } from '../testing/api-schemas.js';
import { cleanEnv, TORFLEET_BIN } from '../testing/run-cli.js';
import { sharedConsensusFile, sharedGeoIpFile } from '../testing/shared-data.js';
import { killRecordedTors } from '../testing/recorded-tors.js';
import { tempDir } from '../testing/temp-dir.js';
import { waitFor } from '../wait-for.js';

/**
 * Issue 9 item 4 against real tors (process runtime): health from each proxy's ControlSocket in GET /proxies;
 * with DisableNetwork a proxy that never bootstraps is left alone and /readyz stays ready; with the network
 * enabled in a private "network" whose only directory authority is a loopback port where nothing listens (so
 * tor can never bootstrap, and never reaches the public network), the proxy is seen stuck and restarted, at
 * most TORFLEET_BOOTSTRAP_RESTARTS times, then left alone and reported.
 */
const BASE = 29300; // this file's port block: 29300-29349
const API = `127.0.0.1:${BASE}`;
const DEAD_AUTHORITY = `dead orport=${BASE + 1} no-v2 v3ident=${'AB'.repeat(20)} 127.0.0.1:${BASE + 2} ${'CD'.repeat(20)}`;
const TIMEOUT_S = 3;
const dir = tempDir('hl-restart');
const stateDir = path.join(dir, 'state');
const fleetFile = path.join(dir, 'fleet.yaml');
const NAME = 'torfleet-test-hl-us-0';

function writeFleet(tor: string): void {
  writeFileSync(
    fleetFile,
    `apiVersion: torfleet/v1\nkind: Fleet\ntor:\n${tor}pools:\n  - {name: torfleet-test-hl-us, geo: US, mode: strict, count: 1, basePort: ${BASE + 10}}\n`,
  );
}

interface Health {
  bootstrap: number | null;
  circuitEstablished: boolean;
  checkedAt: string;
  networkLive: boolean | null;
}
interface View {
  name: string;
  state: string;
  containerId: string | null;
  health: Health | null;
}

let service: ChildProcess | undefined;
let output = '';
const logLines = (msg: string): Record<string, unknown>[] =>
  output
    .split('\n')
    .filter((line) => line.includes(`"msg":"${msg}"`))
    .map((line) => JSON.parse(line) as Record<string, unknown>);

const get = async (route: string): Promise<{ status: number; text: string }> => {
  const response = await fetch(`http://${API}${route}`);
  return { status: response.status, text: await response.text() };
};
const proxy = async (): Promise<View | undefined> => {
  const answer = await get('/proxies').catch(() => undefined);
  if (answer?.status !== 200) return undefined;
  return (JSON.parse(answer.text) as { proxies: View[] }).proxies.find((p) => p.name === NAME);
};
const metric = async (series: string): Promise<number> => {
  const text = (await get('/metrics')).text;
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return Number(line?.split(' ')[1]);
};
/** The proxy, once its health was read after `at` (ms): waits on health checks, not on a clock. */
const checkedAfter = (at: number, timeoutMs = 30_000): Promise<View> =>
  waitFor(
    `a health check after ${new Date(at).toISOString()}`,
    async () => {
      const view = await proxy();
      return view?.health && Date.parse(view.health.checkedAt) > at ? view : undefined;
    },
    timeoutMs,
  );

describe('proxy health and stuck-bootstrap restarts (real tor, process runtime)', { concurrency: false }, () => {
  before(() => {
    writeFleet('  disableNetwork: true\n');
    service = spawn(process.execPath, [TORFLEET_BIN, 'run'], {
      env: cleanEnv({
        TORFLEET_RUNTIME: 'process',
        TORFLEET_INSTANCE: 'torfleet-test-hl',
        TORFLEET_FLEET_FILE: fleetFile,
        TORFLEET_DB: path.join(dir, 'nodes.db'),
        TORFLEET_STATE_DIR: stateDir,
        TORFLEET_NODE_SOURCE: 'consensus',
        TORFLEET_CONSENSUS_URL: sharedConsensusFile,
        TORFLEET_GEOIP_FILE: sharedGeoIpFile,
        TORFLEET_NODES_MAX_AGE: '3650d',
        TORFLEET_LISTEN: API,
        TORFLEET_PROBE_URL: `http://127.0.0.1:${BASE + 3}/`,
        TORFLEET_HEALTH_INTERVAL: '1s',
        TORFLEET_BOOTSTRAP_TIMEOUT: `${TIMEOUT_S}s`,
        TORFLEET_BOOTSTRAP_RESTARTS: '2',
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
  });

  test('DisableNetwork: health from the ControlSocket, no restart, and /readyz is ready', async () => {
    const first = await waitFor('the proxy with its health', async () => {
      const view = await proxy();
      return view?.health ? view : undefined;
    }).catch((error: unknown) => {
      throw new Error(`${String(error)}; output:\n${output}`);
    });
    const answer = JSON.parse((await get('/proxies')).text) as unknown;
    assert.deepEqual(schemaErrors('proxies', answer), []);
    assert.deepEqual(schemaErrors('proxy', JSON.parse((await get(`/proxies/${NAME}`)).text)), []);
    const health = first.health as Health;
    assert.deepEqual([health.bootstrap, health.circuitEstablished, health.networkLive], [0, false, false]);
    // Checks go on past the bootstrap timeout: such a tor never bootstraps, and is not restarted for it.
    const later = await checkedAfter(Date.parse(health.checkedAt) + 2 * TIMEOUT_S * 1000);
    assert.equal(later.containerId, first.containerId);
    assert.equal(await metric('torfleet_proxy_restarts_total{reason="bootstrap_stalled"}'), 0);
    assert.equal(await metric('torfleet_proxies_ready{geo_category="US"}'), 0);
    assert.equal((await get('/readyz')).status, 200);
  });

  test('network enabled but no directory reachable: stuck, restarted twice, then left alone', async () => {
    const disabled = (await proxy())?.containerId;
    writeFleet(`  testingNetwork: true\n  dirAuthorities:\n    - "${DEAD_AUTHORITY}"\n`);
    const replaced = await waitFor('the proxy replaced with the network enabled', async () => {
      const view = await proxy();
      // A DisableNetwork tor stays at 0% ("starting"); this one tries the dead authority at once.
      return view?.health && (view.health.bootstrap ?? 0) > 0 && view.containerId !== disabled ? view : undefined;
    }).catch((error: unknown) => {
      throw new Error(`${String(error)}; output:\n${output}`);
    });
    assert.ok((replaced.health?.bootstrap ?? 100) < 100, JSON.stringify(replaced.health));
    const ready = await get('/readyz');
    assert.equal(ready.status, 503);
    assert.match(ready.text, /no proxy is ready \(bootstrapped and egress check ok\) in US 0 of 1/);

    await waitFor(
      'the restart budget spent',
      async () => (await metric('torfleet_proxies_out_of_restart_budget')) === 1,
      60_000,
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}; output:\n${output}`);
    });
    assert.equal(await metric('torfleet_proxy_restarts_total{reason="bootstrap_stalled"}'), 2);
    const restarts = logLines('restarting a proxy whose tor made no bootstrap progress');
    assert.deepEqual(
      restarts.map((line) => [line.proxy, line.restartsInWindow]),
      [
        [NAME, 1],
        [NAME, 2],
      ],
    );
    assert.equal(logLines('proxy bootstrap stuck and its restart budget is spent; leaving it alone').length, 1);
    const spent = await waitFor('the recreated proxy', async () => {
      const view = await proxy();
      return view?.state === 'running' && view.health ? view : undefined;
    });
    // Left alone: checks go on well past the bootstrap timeout, and nothing restarts it.
    const later = await checkedAfter(Date.now() + 2 * TIMEOUT_S * 1000);
    assert.equal(later.containerId, spent.containerId);
    assert.equal(await metric('torfleet_proxy_restarts_total{reason="bootstrap_stalled"}'), 2);
    assert.equal(await metric('torfleet_proxies_out_of_restart_budget'), 1);
  });
});
