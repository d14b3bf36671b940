import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import Docker from 'dockerode';
import { removeTestContainers } from '../testing/docker-cleanup.js';
import { sharedConsensusFile, sharedGeoIpFile } from '../testing/shared-data.js';
import { cleanEnv, runTorfleet, TORFLEET_BIN, type CliResult } from '../testing/run-cli.js';
import { tempDir } from '../testing/temp-dir.js';
import { waitFor } from '../wait-for.js';
import { torHealth } from '../tor-control/control-client.js';
import { DockerRuntime } from './docker-runtime.js';

/**
 * The reconciler against a real Docker engine, through the built `torfleet` binary. Every proxy runs
 * with DisableNetwork 1 (it dials nothing); containers are named torfleet-test-<run>-*.
 */
const docker = new Docker();
const ID = `test-${process.pid.toString(36)}`;
const dir = tempDir('docker');
const fleetFile = path.join(dir, 'fleet.yaml');
const ENV = {
  TORFLEET_INSTANCE: ID,
  TORFLEET_DB: path.join(dir, 'nodes.db'),
  TORFLEET_STATE_DIR: path.join(dir, 'state'),
  TORFLEET_FLEET_FILE: fleetFile,
  TORFLEET_NODE_SOURCE: 'consensus',
  TORFLEET_CONSENSUS_URL: sharedConsensusFile,
  TORFLEET_GEOIP_FILE: sharedGeoIpFile,
};

interface PoolLine {
  name: string;
  geo?: string;
  mode?: string;
  count?: number;
  port: number;
  extra?: string;
}

function writeFleet(pools: PoolLine[], tor = 'disableNetwork: true'): void {
  const body = pools
    .map(
      (p) =>
        `  - name: ${ID}-${p.name}\n    geo: ${p.geo ?? 'US'}\n    mode: ${p.mode ?? 'strict'}\n    count: ${p.count ?? 1}\n    basePort: ${p.port}\n${p.extra ? `    ${p.extra}\n` : ''}`,
    )
    .join('');
  writeFileSync(fleetFile, `apiVersion: torfleet/v1\nkind: Fleet\ntor:\n  ${tor}\npools:\n${body}`);
}

function torfleet(...args: string[]): Promise<CliResult> {
  return runTorfleet(args, ENV);
}

/** Our containers by proxy name → id. */
async function ours(): Promise<Map<string, { id: string; state: string; labels: Record<string, string> }>> {
  const list = await docker.listContainers({
    all: true,
    filters: { label: ['torfleet.managed=true', `torfleet.instance=${ID}`] },
  });
  const mine = list.filter((c) => c.Labels['torfleet.proxy']?.startsWith(ID));
  return new Map(mine.map((c) => [c.Labels['torfleet.proxy'] ?? '', { id: c.Id, state: c.State, labels: c.Labels }]));
}

const BASE = 25000; // this file's own port block (see process-runtime.test.ts)
const US = { name: 'us', count: 2, port: BASE };
const EU = { name: 'eu', geo: '[DE, NL]', mode: 'rotating', count: 1, port: BASE + 5 };

describe('torfleet apply against a real Docker engine', { concurrency: false }, () => {
  before(async () => {
    await removeTestContainers(docker, ID);
    assert.equal((await torfleet('nodes', 'refresh')).code, 0);
  });
  after(() => removeTestContainers(docker, ID));

  test('create: containers named, labelled and bound as the contract says', async () => {
    writeFleet([US, EU]);
    const plan = await torfleet('plan');
    assert.equal(plan.code, 2, plan.stderr);
    const applied = await torfleet('apply');
    assert.equal(applied.code, 0, applied.stderr);
    const running = await ours();
    assert.deepEqual([...running.keys()].sort(), [`${ID}-eu-0`, `${ID}-us-0`, `${ID}-us-1`]);
    const us0 = running.get(`${ID}-us-0`);
    assert.ok(us0);
    assert.equal(us0.state, 'running');
    assert.equal(us0.labels['torfleet.pool'], `${ID}-us`);
    assert.equal(us0.labels['torfleet.instance'], ID);
    assert.match(us0.labels['torfleet.spec-hash'] ?? '', /^[0-9a-f]{20}$/);
    assert.match(us0.labels['torfleet.revision'] ?? '', /^file:[0-9a-f]{12}$/);
    assert.match(us0.labels['torfleet.exits'] ?? '', /^[0-9A-F]{40}$/);
    const inspect = await docker.getContainer(us0.id).inspect();
    assert.equal(inspect.Name, `/torfleet-${ID}-us-0`);
    assert.equal(inspect.HostConfig.NetworkMode, 'host');
    assert.equal(inspect.HostConfig.RestartPolicy?.Name, 'unless-stopped');
    const torrc = readFileSync(path.join(ENV.TORFLEET_STATE_DIR, 'proxies', `${ID}-us-0`, 'torrc'), 'utf8');
    assert.match(torrc, new RegExp(`^SocksPort 127\\.0\\.0\\.1:${BASE}$`, 'm'));
    assert.match(torrc, /^DisableNetwork 1$/m);
  });

  test("the image's HEALTHCHECK asks tor itself, through its ControlSocket", async () => {
    const id = (await ours()).get(`${ID}-us-0`)?.id ?? '';
    const container = docker.getContainer(id);
    assert.deepEqual((await container.inspect()).Config.Healthcheck?.Test, [
      'CMD',
      '/usr/bin/tor-healthcheck',
      '/var/lib/tor',
    ]);
    const output = await waitFor('a healthy answer', async () => {
      const exec = await container.exec({
        Cmd: ['/usr/bin/tor-healthcheck', '/var/lib/tor'],
        AttachStdout: true,
        AttachStderr: true,
      });
      const stream = await exec.start({});
      let text = '';
      stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
      await new Promise((resolve) => stream.on('end', resolve));
      return (await exec.inspect()).ExitCode === 0 ? text : undefined;
    });
    assert.match(output, /status\/bootstrap-phase=NOTICE BOOTSTRAP PROGRESS=0 TAG=starting/);
  });

  test("health: the reconciler reads each container's tor through the ControlSocket in its data directory", async () => {
    const runtime = new DockerRuntime(docker, { stateDir: ENV.TORFLEET_STATE_DIR, instance: ID });
    const dataDir = runtime.hostDataDirectory(`${ID}-us-0`);
    await waitFor(
      'the control socket and cookie',
      () => existsSync(path.join(dataDir, 'control')) && existsSync(path.join(dataDir, 'control_auth_cookie')),
    );
    const health = await torHealth(dataDir);
    assert.deepEqual([health.bootstrapProgress, health.networkEnabled], [0, false]);
  });

  test('adopt: a second apply (a restarted reconciler) changes nothing and keeps every container', async () => {
    const before = await ours();
    const plan = await torfleet('plan');
    assert.equal(plan.code, 0, plan.stdout);
    assert.match(plan.stdout, /No changes: 3 proxies run as the fleet wants/);
    assert.equal((await torfleet('apply')).code, 0);
    assert.deepEqual(await ours(), before);
  });

  test('replace on spec change: only the changed pool is replaced', async () => {
    const before = await ours();
    writeFleet([US, { ...EU, extra: 'rotateEvery: 5m' }]);
    const plan = await torfleet('plan');
    assert.match(plan.stdout, new RegExp(`~ ${ID}-eu-0 replace: spec_changed`));
    assert.equal((await torfleet('apply')).code, 0);
    const after = await ours();
    assert.notEqual(after.get(`${ID}-eu-0`)?.id, before.get(`${ID}-eu-0`)?.id);
    assert.equal(after.get(`${ID}-us-0`)?.id, before.get(`${ID}-us-0`)?.id);
    assert.equal(after.get(`${ID}-us-1`)?.id, before.get(`${ID}-us-1`)?.id);
  });

  test('a removed container is recreated on the same exit; its data directory survived', async () => {
    const before = await ours();
    const victim = before.get(`${ID}-us-1`);
    await docker.getContainer(victim?.id ?? '').remove({ force: true });
    assert.ok(existsSync(path.join(ENV.TORFLEET_STATE_DIR, 'proxies', `${ID}-us-1`, 'data', 'state')));
    assert.equal((await torfleet('apply')).code, 0);
    const after = await ours();
    assert.equal(after.get(`${ID}-us-1`)?.state, 'running');
    assert.equal(after.get(`${ID}-us-1`)?.labels['torfleet.exits'], victim?.labels['torfleet.exits']);
    assert.equal(after.get(`${ID}-us-0`)?.id, before.get(`${ID}-us-0`)?.id);
  });

  test('an invalid fleet: exit 1 with the located error, nothing touched', async () => {
    const before = await ours();
    writeFileSync(fleetFile, readFileSync(fleetFile, 'utf8').replace('mode: strict', 'mode: strickt'));
    const applied = await torfleet('apply');
    assert.equal(applied.code, 1);
    assert.match(applied.stderr, /fleet\.yaml:\d+:\d+: pools\[0\]\.mode: "strickt" is not one of/);
    assert.deepEqual(await ours(), before);
  });

  test('an unmanaged container with a proxy-like name is left alone, and named in the error', async () => {
    const squatter = `torfleet-${ID}-extra-0`;
    await docker.createContainer({ name: squatter, Image: 'torfleet/tor:0.4.9', Cmd: ['--version'] });
    writeFleet([US, { ...EU, extra: 'rotateEvery: 5m' }, { name: 'extra', count: 1, port: BASE + 10 }]);
    const applied = await torfleet('apply');
    assert.equal(applied.code, 1);
    assert.match(
      applied.stderr,
      new RegExp(
        `${ID}-extra-0: create failed: cannot create container ${squatter}: a container of that name already exists and torfleet did not make it`,
      ),
    );
    const inspect = await docker.getContainer(squatter).inspect();
    assert.equal(inspect.Config.Labels['torfleet.managed'], undefined);
    assert.equal((await ours()).size, 3);
    await docker.getContainer(squatter).remove({ force: true });
  });

  test("another instance's managed proxies on the same engine are neither listed nor touched", async () => {
    const neighbour = `torfleet-${ID}-neighbour-0`;
    await docker.createContainer({
      name: neighbour,
      Image: 'torfleet/tor:0.4.9',
      Cmd: ['--version'],
      Labels: {
        'torfleet.managed': 'true',
        'torfleet.instance': `${ID}-other`,
        'torfleet.pool': 'x',
        'torfleet.proxy': 'x-0',
      },
    });
    const plan = await torfleet('plan');
    assert.doesNotMatch(plan.stdout, /x-0/);
    assert.equal((await torfleet('apply')).code, 0);
    assert.equal((await docker.getContainer(neighbour).inspect()).Config.Labels['torfleet.instance'], `${ID}-other`);
    await docker.getContainer(neighbour).remove({ force: true });
  });

  test('prune: a removed pool loses its containers and data; the others keep theirs', async () => {
    writeFleet([US, { ...EU, extra: 'rotateEvery: 5m' }]);
    assert.equal((await torfleet('apply')).code, 0);
    const before = await ours();
    writeFleet([US]);
    const plan = await torfleet('plan');
    assert.match(plan.stdout, new RegExp(`- ${ID}-eu-0 removed_from_fleet`));
    assert.equal((await torfleet('apply')).code, 0);
    const after = await ours();
    assert.deepEqual([...after.keys()].sort(), [`${ID}-us-0`, `${ID}-us-1`]);
    assert.equal(after.get(`${ID}-us-0`)?.id, before.get(`${ID}-us-0`)?.id);
    assert.ok(!existsSync(path.join(ENV.TORFLEET_STATE_DIR, 'proxies', `${ID}-eu-0`)));
  });

  test('killed mid-apply, the next apply converges with no duplicate or orphan', async () => {
    writeFleet([{ ...US, count: 6 }]);
    const child = spawn(process.execPath, [TORFLEET_BIN, 'apply'], { env: cleanEnv(ENV), stdio: 'ignore' });
    // Kill it as soon as it has created its first new container.
    for (let i = 0; i < 200 && (await ours()).size <= 2; i++) await new Promise((r) => setTimeout(r, 10));
    child.kill('SIGKILL');
    await new Promise((resolve) => child.on('exit', resolve));
    const applied = await torfleet('apply');
    assert.equal(applied.code, 0, applied.stderr);
    const after = await ours();
    assert.deepEqual(
      [...after.keys()].sort(),
      [0, 1, 2, 3, 4, 5].map((i) => `${ID}-us-${i}`),
    );
    const all = await docker.listContainers({ all: true, filters: { name: [`torfleet-${ID}-`] } });
    assert.equal(all.length, 6, 'one container per proxy');
    assert.ok([...after.values()].every((c) => c.state === 'running'));
    assert.equal((await torfleet('plan')).code, 0);
  });

  test('a missing image is a clear error naming make image', async () => {
    writeFleet([US], 'disableNetwork: true\n  image: torfleet/tor:0.0.0-missing');
    const applied = await torfleet('apply');
    assert.equal(applied.code, 1);
    assert.match(
      applied.stderr,
      /the tor image torfleet\/tor:0\.0\.0-missing is not on this Docker engine; build it with "make image"/,
    );
    // us-2..5 left the fleet and are gone; us-0 and us-1 keep running on the old image rather than being
    // removed for a replacement that cannot start.
    const after = await ours();
    assert.deepEqual([...after.keys()].sort(), [`${ID}-us-0`, `${ID}-us-1`]);
    assert.ok([...after.values()].every((c) => c.state === 'running' && c.labels['torfleet.revision'] !== undefined));
  });
});
