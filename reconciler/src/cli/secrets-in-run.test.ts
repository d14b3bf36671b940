import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cleanEnv, runTorfleet, TORFLEET_BIN } from '../testing/run-cli.js';
import { sharedConsensusFile, sharedGeoIpFile } from '../testing/shared-data.js';
import { tempDir } from '../testing/temp-dir.js';
import { waitFor } from '../wait-for.js';

/**
 * Issue 8, item 3: a value from the environment never leaves torfleet. `torfleet run` (process runtime,
 * DisableNetwork 1, the shared consensus) is fed the issue's fleet and then a valid one holding the
 * credential; its logs, /status, /proxies, /metrics and `plan --json` are searched for the secret.
 */
const PORT = 30000; // this file's port block: 30000-30049
const API = `127.0.0.1:${PORT + 9}`;
const SECRET_USER = 'opsuser7';
const SECRET_PASSWORD = 's3cret-Kq81xw';
const SECRET = `${SECRET_USER}:${SECRET_PASSWORD}`;
const ID = `test-secrets${process.pid.toString(36)}`;
const dir = tempDir('secrets');
const fleetFile = path.join(dir, 'fleet.yaml');
const stateDir = path.join(dir, 'state');

const env = cleanEnv({
  TORFLEET_INSTANCE: ID,
  TORFLEET_FLEET_FILE: fleetFile,
  TORFLEET_RUNTIME: 'process',
  TORFLEET_DB: path.join(dir, 'nodes.db'),
  TORFLEET_STATE_DIR: stateDir,
  TORFLEET_NODE_SOURCE: 'consensus',
  TORFLEET_CONSENSUS_URL: sharedConsensusFile,
  TORFLEET_GEOIP_FILE: sharedGeoIpFile,
  TORFLEET_LISTEN: API,
  TORFLEET_PROBE_URL: `http://127.0.0.1:${PORT + 8}/`,
  TORFLEET_LOG_LEVEL: 'debug',
  PROXY_AUTH: SECRET,
});

const HEAD = 'apiVersion: torfleet/v1\nkind: Fleet\n';
const ISSUE_FLEET = `${HEAD}tor:\n  disableNetwork: true\n  httpsProxy: "\${PROXY_AUTH}"\n  testingNetwork: "\${PROXY_AUTH}"\npools: []\n`;
const VALID_FLEET = `${HEAD}tor:\n  disableNetwork: true\n  httpsProxy:\n    address: "192.0.2.10:3128"\n    auth: "\${PROXY_AUTH}"\npools:\n  - {name: ${ID}, geo: [DE], mode: rotating, count: 1, basePort: ${PORT + 20}}\n`;

let service: ChildProcess | undefined;
let output = '';

async function body(route: string): Promise<string> {
  return (await fetch(`http://${API}${route}`)).text();
}

function passes(): Record<string, unknown>[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => line.msg === 'pass finished');
}

function assertNoSecret(where: string, text: string): void {
  for (const piece of [SECRET, SECRET_PASSWORD, SECRET_USER]) {
    assert.ok(!text.includes(piece), `${where} shows ${piece}:\n${text.slice(0, 2000)}`);
  }
}

function ourTorPids(): number[] {
  const root = path.join(stateDir, 'proxies');
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .map((name) => path.join(root, name, 'process.json'))
    .filter((record) => existsSync(record))
    .map((record) => (JSON.parse(readFileSync(record, 'utf8')) as { pid: number }).pid);
}

describe('torfleet run never shows a value from the environment', { concurrency: false }, () => {
  before(() => {
    writeFileSync(fleetFile, ISSUE_FLEET);
    service = spawn(process.execPath, [TORFLEET_BIN, 'run'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    service.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    service.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  });
  after(async () => {
    if (service && service.exitCode === null) {
      const exited = new Promise((resolve) => service?.once('exit', resolve));
      service.kill('SIGTERM');
      await exited;
    }
    // The reconciler leaves its proxies running by design: stop the tor processes this test started.
    for (const pid of ourTorPids()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });

  test("the issue's fleet: the stalled pass, /status, /proxies and /metrics say [from ${PROXY_AUTH}]", async () => {
    const stalled = await waitFor('the first pass', () => passes().find((p) => p.outcome !== undefined), 60_000);
    assert.notEqual(stalled.outcome, 'converged');
    const status = await body('/status');
    assert.match(status, /\[from \$\{PROXY_AUTH\}\]/);
    assertNoSecret('/status', status);
    assertNoSecret('/proxies', await body('/proxies'));
    assertNoSecret('/metrics', await body('/metrics'));
    assertNoSecret('the logs', output);
    assert.match(output, /\[from \$\{PROXY_AUTH\}\]/);
  });

  test('a valid fleet holding the credential: applied, and shown nowhere', async () => {
    writeFileSync(fleetFile, VALID_FLEET);
    await waitFor('the valid fleet to converge', () => passes().some((p) => p.outcome === 'converged'), 60_000);
    for (const route of ['/status', '/proxies', `/proxies/${ID}-0`, '/metrics', '/nodes']) {
      assertNoSecret(route, await body(route));
    }
    const plan = await runTorfleet(['plan', '--json'], env as Record<string, string>);
    assert.ok(plan.code === 0 || plan.code === 2, plan.stderr);
    assertNoSecret('plan --json', plan.stdout + plan.stderr);
    assertNoSecret('the logs', output);
  });
});
