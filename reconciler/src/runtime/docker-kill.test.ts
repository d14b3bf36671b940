import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import Docker from 'dockerode';
import { removeTestContainers } from '../testing/docker-cleanup.js';
import { sharedConsensusFile, sharedGeoIpFile } from '../testing/shared-data.js';
import { cleanEnv, runTorfleet, TORFLEET_BIN } from '../testing/run-cli.js';
import { tempDir } from '../testing/temp-dir.js';

/**
 * Issue 8 item 2, Docker: `torfleet apply` killed -9 while it replaces containers (right after the engine
 * created one, or at a random moment), again and again; one more apply then leaves exactly one container
 * per proxy, every one labelled, running and planned as unchanged. A container is created with its labels
 * and its unique name in one engine call, so a kill can leave one created but not started, never a duplicate.
 */
const docker = new Docker();
const ID = `test-rtdkill-${process.pid.toString(36)}`;
const dir = tempDir('rtdkill');
const fleetFile = path.join(dir, 'fleet.yaml');
const PORT = 29700; // this file's port block: 29700-29799
const COUNT = 4;
const KILLS = 4;
const ENV = {
  TORFLEET_INSTANCE: ID,
  TORFLEET_DB: path.join(dir, 'nodes.db'),
  TORFLEET_STATE_DIR: path.join(dir, 'state'),
  TORFLEET_FLEET_FILE: fleetFile,
  TORFLEET_NODE_SOURCE: 'consensus',
  TORFLEET_CONSENSUS_URL: sharedConsensusFile,
  TORFLEET_GEOIP_FILE: sharedGeoIpFile,
};

function writeFleet(bind: string): void {
  writeFileSync(
    fleetFile,
    `apiVersion: torfleet/v1\nkind: Fleet\ntor:\n  disableNetwork: true\npools:\n` +
      `  - {name: ${ID}, geo: US, mode: strict, count: ${String(COUNT)}, basePort: ${String(PORT)}, bind: ${bind}}\n`,
  );
}

/** Every container of this test, by name, whatever its labels. */
async function containers(): Promise<Docker.ContainerInfo[]> {
  const all = await docker.listContainers({ all: true, filters: { name: [`torfleet-${ID}-`] } });
  return all.filter((c) => c.Names.some((n) => n.startsWith(`/torfleet-${ID}-`)));
}

async function applyKilled(ms: number | undefined): Promise<string> {
  const known = new Set((await containers()).map((c) => c.Id));
  const child = spawn(process.execPath, [TORFLEET_BIN, 'apply'], { env: cleanEnv(ENV), stdio: 'ignore' });
  const exited = (): boolean => child.exitCode !== null || child.signalCode !== null;
  const exit = new Promise((resolve) => child.once('exit', resolve));
  if (ms !== undefined) await new Promise((resolve) => setTimeout(resolve, ms));
  else while (!exited() && (await containers()).every((c) => known.has(c.Id)));
  const moment = exited()
    ? 'after it ended'
    : ms === undefined
      ? 'as a container was created'
      : `after ${String(ms)} ms`;
  if (!exited()) {
    child.kill('SIGKILL');
    await exit;
  }
  return moment;
}

describe('docker runtime: kill -9 during replacements', { concurrency: false, timeout: 300_000 }, () => {
  before(async () => {
    await removeTestContainers(docker, ID);
    assert.equal((await runTorfleet(['nodes', 'refresh'], ENV)).code, 0);
  });
  after(() => removeTestContainers(docker, ID));

  test(`${String(KILLS)} kills, then one apply: exactly one managed, running container per proxy`, async () => {
    writeFleet('127.0.0.1');
    const first = await runTorfleet(['apply'], ENV);
    assert.equal(first.code, 0, first.stderr);
    const moments: string[] = [];
    for (let i = 0; i < KILLS; i++) {
      writeFleet(i % 2 === 0 ? '127.0.0.2' : '127.0.0.1');
      moments.push(await applyKilled(i % 2 === 0 ? undefined : 300 + Math.floor(Math.random() * 1500)));
    }
    const last = await runTorfleet(['apply'], ENV);
    assert.equal(last.code, 0, `kills ${moments.join(', ')}; ${last.stderr}`);
    const after = await containers();
    assert.deepEqual(
      after.map((c) => c.Names[0]).sort(),
      Array.from({ length: COUNT }, (_, i) => `/torfleet-${ID}-${String(i)}`),
      `one container per proxy (kills ${moments.join(', ')})`,
    );
    for (const c of after) {
      assert.equal(c.Labels['torfleet.managed'], 'true');
      assert.equal(c.Labels['torfleet.instance'], ID);
      assert.equal(c.State, 'running', `${c.Names[0] ?? ''} runs (kills ${moments.join(', ')})`);
    }
    assert.equal((await runTorfleet(['plan'], ENV)).code, 0, 'converged: the next plan has no changes');
  });
});
