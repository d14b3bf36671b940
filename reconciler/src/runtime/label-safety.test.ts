import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import Docker from 'dockerode';
import { removeTestContainers } from '../testing/docker-cleanup.js';
import { sharedConsensusFile, sharedGeoIpFile } from '../testing/shared-data.js';
import { runTorfleet } from '../testing/run-cli.js';
import { tempDir } from '../testing/temp-dir.js';

/**
 * Labels and records are input: anyone with Docker access can create a container with torfleet's labels, and
 * a proxy's process.json is a file on disk. The attack of issue 8 item 4: `torfleet.proxy: "../../victim"` made
 * `apply` of an empty fleet delete a directory outside the state dir. Such objects are ignored and reported.
 */
const docker = new Docker();
const ID = `test-rtsafe-${process.pid.toString(36)}`;

function setup(name: string): { dir: string; stateDir: string; victim: string; env: Record<string, string> } {
  const dir = tempDir(name);
  const stateDir = path.join(dir, 'state');
  // <stateDir>/proxies/../../victim is <dir>/victim.
  const victim = path.join(dir, 'victim');
  mkdirSync(victim, { recursive: true });
  writeFileSync(path.join(victim, 'precious'), 'keep me\n');
  const fleetFile = path.join(dir, 'fleet.yaml');
  writeFileSync(fleetFile, 'apiVersion: torfleet/v1\nkind: Fleet\ntor:\n  disableNetwork: true\npools: []\n');
  const env = {
    TORFLEET_INSTANCE: ID,
    TORFLEET_DB: path.join(dir, 'nodes.db'),
    TORFLEET_STATE_DIR: stateDir,
    TORFLEET_FLEET_FILE: fleetFile,
    TORFLEET_NODE_SOURCE: 'consensus',
    TORFLEET_CONSENSUS_URL: sharedConsensusFile,
    TORFLEET_GEOIP_FILE: sharedGeoIpFile,
  };
  return { dir, stateDir, victim, env };
}

const attackLabels = {
  'torfleet.managed': 'true',
  'torfleet.instance': ID,
  'torfleet.pool': 'evil',
  'torfleet.proxy': '../../victim',
  'torfleet.spec-hash': '0',
  'torfleet.revision': 'x',
  'torfleet.exits': '',
};

describe('state and labels are never used as paths unchecked', { concurrency: false }, () => {
  before(() => removeTestContainers(docker, ID));
  after(() => removeTestContainers(docker, ID));

  test('process runtime: a process.json naming ../../victim is ignored and reported; the victim survives', async () => {
    const { stateDir, victim, env } = setup('rtsafe-proc');
    const processEnv = { ...env, TORFLEET_RUNTIME: 'process' };
    assert.equal((await runTorfleet(['nodes', 'refresh'], processEnv)).code, 0);
    const evil = path.join(stateDir, 'proxies', 'evil');
    mkdirSync(evil, { recursive: true });
    writeFileSync(
      path.join(evil, 'process.json'),
      JSON.stringify({ pid: 1, startedAt: new Date().toISOString(), labels: attackLabels }),
    );
    const applied = await runTorfleet(['apply'], processEnv);
    assert.equal(applied.code, 0, applied.stderr);
    assert.ok(existsSync(path.join(victim, 'precious')), 'the victim directory outside the state dir survives');
    assert.ok(existsSync(path.join(evil, 'process.json')), 'the invalid record is left for a human to look at');
    assert.match(applied.stderr, /"msg":"ignoring an object with invalid torfleet labels"/);
    assert.match(applied.stderr, /torfleet\.proxy/);
    assert.match(applied.stderr, /proxies\/evil/);
  });

  test('docker runtime: a hand-made container labelled ../../victim is ignored and reported; the victim survives', async () => {
    const { victim, env } = setup('rtsafe-docker');
    assert.equal((await runTorfleet(['nodes', 'refresh'], env)).code, 0);
    const name = `torfleet-${ID}-evil`;
    const container = await docker.createContainer({
      name,
      Image: 'torfleet/tor:0.4.9',
      Cmd: ['--version'],
      Labels: attackLabels,
    });
    const applied = await runTorfleet(['apply'], env);
    assert.equal(applied.code, 0, applied.stderr);
    assert.ok(existsSync(path.join(victim, 'precious')), 'the victim directory outside the state dir survives');
    assert.equal((await container.inspect()).Name, `/${name}`, 'the container is left alone');
    assert.match(applied.stderr, /"msg":"ignoring an object with invalid torfleet labels"/);
    assert.match(applied.stderr, new RegExp(container.id.slice(0, 12)));
  });
});
