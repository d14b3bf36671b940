import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { sharedConsensusFile, sharedGeoIpFile } from '../testing/shared-data.js';
import { cleanEnv, runTorfleet, TORFLEET_BIN, type CliResult } from '../testing/run-cli.js';
import { joinTestSwarm, removeTestSwarmObjects } from '../testing/swarm-cleanup.js';
import { tempDir } from '../testing/temp-dir.js';
import { torHealth } from '../tor-control/control-client.js';
import { startPrivateTorNetwork, type PrivateTorNetwork } from '../tor-network/private-tor-network.js';
import { waitFor } from '../wait-for.js';
import { nodeAddressOf, type SwarmNode } from './map-swarm-service.js';
import type { RuntimeEvent } from './proxy-runtime.js';
import { SwarmRuntime } from './swarm-runtime.js';

/**
 * TORFLEET_RUNTIME=swarm against a real single-node swarm on this machine (made here when the engine had
 * none, and left again), through the built `torfleet` binary. The only file that touches the swarm: test
 * files run concurrently. Every proxy runs with DisableNetwork 1 on 127.0.0.1:31100-31199; every service,
 * config and volume is named torfleet-test-<run>-*, and only those are removed.
 */
const run = promisify(execFile);
const docker = new Docker();
const ID = `test-sw${process.pid.toString(36)}`;
const dir = tempDir('swarm');
const fleetFile = path.join(dir, 'fleet.yaml');
const ENV = {
  TORFLEET_RUNTIME: 'swarm',
  TORFLEET_INSTANCE: ID,
  TORFLEET_DB: path.join(dir, 'nodes.db'),
  TORFLEET_STATE_DIR: path.join(dir, 'state'),
  TORFLEET_FLEET_FILE: fleetFile,
  TORFLEET_NODE_SOURCE: 'consensus',
  TORFLEET_CONSENSUS_URL: sharedConsensusFile,
  TORFLEET_GEOIP_FILE: sharedGeoIpFile,
};
/** A node label of this run only, so removing it touches nothing else. */
const NODE_LABEL = `torfleet-${ID}-region`;

interface PoolLine {
  name: string;
  geo?: string;
  mode?: string;
  count?: number;
  port: number;
  extra?: string;
}

function writeFleet(pools: PoolLine[]): void {
  const body = pools
    .map(
      (p) =>
        `  - name: ${ID}-${p.name}\n    geo: ${p.geo ?? 'US'}\n    mode: ${p.mode ?? 'strict'}\n    count: ${p.count ?? 1}\n    basePort: ${p.port}\n${p.extra ? `    ${p.extra}\n` : ''}`,
    )
    .join('');
  writeFileSync(fleetFile, `apiVersion: torfleet/v1\nkind: Fleet\ntor:\n  disableNetwork: true\npools:\n${body}`);
}

function torfleet(...args: string[]): Promise<CliResult> {
  return runTorfleet(args, ENV);
}

interface OurService {
  id: string;
  version: number;
  labels: Record<string, string>;
  spec: Docker.ServiceSpec;
}

/** This run's services by proxy name. */
async function ours(): Promise<Map<string, OurService>> {
  const list = await docker.listServices({ filters: { label: ['torfleet.managed=true', `torfleet.instance=${ID}`] } });
  return new Map(
    list.map((s) => [
      s.Spec?.Labels?.['torfleet.proxy'] ?? '',
      { id: s.ID, version: s.Version?.Index ?? 0, labels: s.Spec?.Labels ?? {}, spec: s.Spec ?? {} },
    ]),
  );
}

/** This run's configs by name. */
async function configs(): Promise<Map<string, Docker.ConfigInfo>> {
  const list = await docker.listConfigs({ filters: { label: [`torfleet.instance=${ID}`] } });
  return new Map(list.map((c) => [c.Spec?.Name ?? '', c]));
}

function configsOf(service: OurService | undefined): string[] {
  const task: Docker.ContainerTaskSpec | undefined = service?.spec.TaskTemplate;
  return (task?.ContainerSpec?.Configs ?? []).map((c) => c.ConfigName ?? '');
}

function runtime(): SwarmRuntime {
  return new SwarmRuntime(docker, { stateDir: ENV.TORFLEET_STATE_DIR, instance: ID });
}

/** Waits until the proxy's current task runs (Swarm reports it once its health check passes). */
function untilRunning(proxy: string): Promise<unknown> {
  return waitFor(
    `${proxy} running`,
    async () => (await runtime().list()).find((p) => p.name === proxy && p.state === 'running'),
    60_000,
  );
}

const BASE = 31100; // this file's port block: 31100-31199
const US = { name: 'us', count: 2, port: BASE };
const EU = { name: 'eu', geo: '[DE, NL]', mode: 'rotating', count: 1, port: BASE + 5 };

describe('TORFLEET_RUNTIME=swarm against a real single-node swarm', { concurrency: false, timeout: 600_000 }, () => {
  let swarm: { leave: () => Promise<void> } | undefined;
  let self = '';
  before(async () => {
    swarm = await joinTestSwarm();
    self = (await run('docker', ['info', '--format', '{{.Swarm.NodeID}}'])).stdout.trim();
    await removeTestSwarmObjects(docker, ID);
    assert.equal((await torfleet('nodes', 'refresh')).code, 0);
  });
  after(async () => {
    await removeTestSwarmObjects(docker, ID);
    if (self) await run('docker', ['node', 'update', '--label-rm', NODE_LABEL, self]).catch(() => undefined);
    await swarm?.leave();
  });

  test('create: services named, labelled, one replica on host networking, torrc a config, data in a volume', async () => {
    writeFleet([US, EU]);
    const plan = await torfleet('plan');
    assert.equal(plan.code, 2, plan.stderr);
    const applied = await torfleet('apply');
    assert.equal(applied.code, 0, applied.stderr);
    const services = await ours();
    assert.deepEqual([...services.keys()].sort(), [`${ID}-eu-0`, `${ID}-us-0`, `${ID}-us-1`]);
    const us0 = services.get(`${ID}-us-0`);
    assert.ok(us0);
    assert.equal(us0.spec.Name, `torfleet-${ID}-us-0`);
    assert.equal(us0.labels['torfleet.pool'], `${ID}-us`);
    assert.match(us0.labels['torfleet.spec-hash'] ?? '', /^[0-9a-f]{20}$/);
    assert.match(us0.labels['torfleet.revision'] ?? '', /^file:[0-9a-f]{12}$/);
    assert.match(us0.labels['torfleet.exits'] ?? '', /^[0-9A-F]{40}$/);
    assert.deepEqual(us0.spec.Mode, { Replicated: { Replicas: 1 } });
    const task = us0.spec.TaskTemplate as Docker.ContainerTaskSpec;
    assert.equal(task.Networks?.length, 1);
    assert.equal(task.RestartPolicy?.Condition, 'any');
    assert.equal(task.Resources?.Limits?.MemoryBytes, 256 * 1024 * 1024);
    const hash = us0.labels['torfleet.spec-hash'] ?? '';
    assert.deepEqual(configsOf(us0), [`torfleet-${ID}-us-0-${hash.slice(0, 12)}`]);
    const config = (await configs()).get(`torfleet-${ID}-us-0-${hash.slice(0, 12)}`);
    const torrc = Buffer.from(config?.Spec?.Data ?? '', 'base64').toString();
    assert.match(torrc, new RegExp(`^SocksPort 127\\.0\\.0\\.1:${BASE}$`, 'm'));
    assert.match(torrc, /^DisableNetwork 1$/m);
    await untilRunning(`${ID}-us-0`);
    const volume = await docker.getVolume(`torfleet-${ID}-us-0`).inspect();
    assert.equal(volume.Labels['torfleet.proxy'], `${ID}-us-0`);
    const proxy = (await runtime().list()).find((p) => p.name === `${ID}-us-0`);
    assert.equal(proxy?.node, hostname());
    assert.equal(proxy.nodeAddress, null, 'a task on the manager itself is dialled here, not at a node address');
    // The same engine answer seen as another manager would: this node at its advertised address (ManagerStatus).
    const [node] = (await docker.listNodes()) as SwarmNode[];
    assert.ok(node);
    assert.equal(nodeAddressOf(node), '127.0.0.1');
    const [container] = await docker.listContainers({
      filters: { label: [`com.docker.swarm.service.name=torfleet-${ID}-us-0`] },
    });
    assert.equal((await docker.getContainer(container?.Id ?? '').inspect()).HostConfig.NetworkMode, 'host');
  });

  test('health: the ControlSocket is in the volume on this host', async () => {
    const swarm = runtime();
    await swarm.list(); // learns where the engine keeps its volumes
    const dataDir = swarm.hostDataDirectory(`${ID}-us-0`);
    await waitFor('the control socket', () => existsSync(path.join(dataDir, 'control')));
    const health = await torHealth(dataDir);
    assert.deepEqual([health.bootstrapProgress, health.networkEnabled], [0, false]);
  });

  test('adopt: a second apply (a restarted reconciler) changes nothing and keeps every service as it is', async () => {
    for (const name of [`${ID}-us-1`, `${ID}-eu-0`]) await untilRunning(name);
    const before = await ours();
    const plan = await torfleet('plan');
    assert.equal(plan.code, 0, plan.stdout);
    assert.match(plan.stdout, /No changes: 3 proxies run as the fleet wants/);
    assert.equal((await torfleet('apply')).code, 0);
    assert.deepEqual(
      [...(await ours())].map(([name, s]) => [name, s.id, s.version]),
      [...before].map(([name, s]) => [name, s.id, s.version]),
    );
  });

  test('replace on spec change: the same service moves to a new config; the old config is removed', async () => {
    const before = await ours();
    const oldConfigs = configsOf(before.get(`${ID}-eu-0`));
    writeFleet([US, { ...EU, extra: 'rotateEvery: 5m' }]);
    const plan = await torfleet('plan');
    assert.match(plan.stdout, new RegExp(`~ ${ID}-eu-0 replace: spec_changed`));
    assert.equal((await torfleet('apply')).code, 0);
    const after = await ours();
    const eu = after.get(`${ID}-eu-0`);
    assert.equal(eu?.id, before.get(`${ID}-eu-0`)?.id, 'updated in place');
    assert.notEqual(eu?.labels['torfleet.spec-hash'], before.get(`${ID}-eu-0`)?.labels['torfleet.spec-hash']);
    assert.notDeepEqual(configsOf(eu), oldConfigs);
    const names = await configs();
    assert.ok(names.has(configsOf(eu)[0] ?? ''));
    assert.ok(!names.has(oldConfigs[0] ?? ''), 'old config removed');
    assert.equal(after.get(`${ID}-us-0`)?.version, before.get(`${ID}-us-0`)?.version, 'us untouched');
    await untilRunning(`${ID}-eu-0`);
    assert.equal((await torfleet('plan')).code, 0);
  });

  test('drift: a service removed by hand is seen by watch() and created again on the same exit', async () => {
    const before = await ours();
    const victim = before.get(`${ID}-us-1`);
    const events: RuntimeEvent[] = [];
    const stop = runtime().watch((event) => events.push(event));
    await new Promise((resolve) => setTimeout(resolve, 500)); // the event streams open
    await docker.getService(victim?.id ?? '').remove();
    await waitFor('the watch to see the service go', () =>
      events.some((e) => e.action === 'remove' && e.proxy === `${ID}-us-1`),
    );
    stop();
    const plan = await torfleet('plan');
    assert.match(plan.stdout, new RegExp(`\\+ ${ID}-us-1`));
    assert.equal((await torfleet('apply')).code, 0);
    const after = await ours();
    assert.notEqual(after.get(`${ID}-us-1`)?.id, victim?.id);
    assert.equal(after.get(`${ID}-us-1`)?.labels['torfleet.exits'], victim?.labels['torfleet.exits']);
    assert.equal(after.get(`${ID}-us-0`)?.version, before.get(`${ID}-us-0`)?.version);
    await untilRunning(`${ID}-us-1`);
  });

  test('drift: a service changed by hand (docker service update --env-add) is replaced in one pass', async () => {
    await run('docker', ['service', 'update', '--detach', '--env-add', 'X=1', `torfleet-${ID}-us-0`]);
    const observed = (await runtime().list()).find((p) => p.name === `${ID}-us-0`);
    assert.equal(observed?.specHash, '');
    assert.equal(observed.reason, 'the service was changed outside torfleet');
    const plan = await torfleet('plan');
    assert.match(plan.stdout, new RegExp(`~ ${ID}-us-0 replace`));
    assert.equal((await torfleet('apply')).code, 0);
    const task = (await ours()).get(`${ID}-us-0`)?.spec.TaskTemplate as Docker.ContainerTaskSpec;
    assert.equal(task.ContainerSpec?.Env, undefined);
    await untilRunning(`${ID}-us-0`);
    assert.equal((await torfleet('plan')).code, 0);
  });

  test('placement: constraints that a node matches run there', async () => {
    await run('docker', ['node', 'update', '--label-add', `${NODE_LABEL}=eu`, self]);
    const placed = {
      name: 'pl',
      count: 1,
      port: BASE + 15,
      extra: `placement: {constraints: ["node.labels.${NODE_LABEL}==eu"]}`,
    };
    writeFleet([US, { ...EU, extra: 'rotateEvery: 5m' }, placed]);
    assert.equal((await torfleet('apply')).code, 0);
    const task = (await ours()).get(`${ID}-pl-0`)?.spec.TaskTemplate as Docker.ContainerTaskSpec;
    assert.deepEqual(task.Placement?.Constraints, [`node.labels.${NODE_LABEL}==eu`]);
    await untilRunning(`${ID}-pl-0`);
  });

  test('placement: constraints no node matches leave the proxy pending with the reason, not recreated each pass', async () => {
    const placed = {
      name: 'pl',
      count: 1,
      port: BASE + 15,
      extra: `placement: {constraints: ["node.labels.${NODE_LABEL}==mars"]}`,
    };
    writeFleet([US, { ...EU, extra: 'rotateEvery: 5m' }, placed]);
    assert.equal((await torfleet('apply')).code, 0);
    const pending = await waitFor('the proxy pending', async () =>
      (await runtime().list()).find(
        (p) => p.name === `${ID}-pl-0` && p.state === 'pending' && /no suitable node/.test(p.reason ?? ''),
      ),
    );
    assert.match(pending.reason ?? '', /no suitable node/);
    const before = await ours();
    for (let i = 0; i < 2; i++) {
      const plan = await torfleet('plan');
      assert.equal(plan.code, 0, plan.stdout);
      assert.equal((await torfleet('apply')).code, 0);
    }
    assert.equal((await ours()).get(`${ID}-pl-0`)?.version, before.get(`${ID}-pl-0`)?.version, 'not recreated');
    await run('docker', ['node', 'update', '--label-rm', NODE_LABEL, self]);
  });

  test('an unmanaged service with a proxy-like name is left alone, and named in the error', async () => {
    const squatter = `torfleet-${ID}-extra-0`;
    await docker.createService({
      Name: squatter,
      TaskTemplate: {
        ContainerSpec: { Image: 'torfleet/tor:0.4.9', Args: ['--version'] },
        RestartPolicy: { Condition: 'none' },
      },
    });
    writeFleet([US, { ...EU, extra: 'rotateEvery: 5m' }, { name: 'extra', count: 1, port: BASE + 10 }]);
    const applied = await torfleet('apply');
    assert.equal(applied.code, 1);
    assert.match(
      applied.stderr,
      new RegExp(`${ID}-extra-0: create failed: cannot create service ${squatter}: one of that name already exists`),
    );
    const service = (await docker.getService(squatter).inspect()) as { Spec: Docker.ServiceSpec };
    assert.equal(service.Spec.Labels?.['torfleet.managed'], undefined);
    assert.ok(!(await ours()).has(`${ID}-extra-0`));
    await docker.getService(squatter).remove();
  });

  test("another instance's managed services on the same swarm are neither listed nor touched", async () => {
    const neighbour = `torfleet-${ID}-neighbour-0`;
    const { id } = (await docker.createService({
      Name: neighbour,
      Labels: {
        'torfleet.managed': 'true',
        'torfleet.instance': `${ID}-other`,
        'torfleet.pool': 'x',
        'torfleet.proxy': 'x-0',
      },
      TaskTemplate: {
        ContainerSpec: { Image: 'torfleet/tor:0.4.9', Args: ['--version'] },
        RestartPolicy: { Condition: 'none' },
      },
    })) as { id: string };
    writeFleet([US, { ...EU, extra: 'rotateEvery: 5m' }]);
    const plan = await torfleet('plan');
    assert.doesNotMatch(plan.stdout, /x-0/);
    assert.equal((await torfleet('apply')).code, 0);
    const inspected = (await docker.getService(id).inspect()) as { Spec: Docker.ServiceSpec };
    assert.equal(inspected.Spec.Labels?.['torfleet.instance'], `${ID}-other`);
    await docker.getService(id).remove();
  });

  test('prune: a removed pool loses its services, configs and volumes; the others keep theirs', async () => {
    const before = await ours();
    writeFleet([US]);
    const plan = await torfleet('plan');
    assert.match(plan.stdout, new RegExp(`- ${ID}-eu-0 removed_from_fleet`));
    assert.equal((await torfleet('apply')).code, 0);
    const after = await ours();
    assert.deepEqual([...after.keys()].sort(), [`${ID}-us-0`, `${ID}-us-1`]);
    assert.equal(after.get(`${ID}-us-0`)?.version, before.get(`${ID}-us-0`)?.version);
    const left = [...(await configs()).keys()].sort();
    assert.deepEqual(left, [...configsOf(after.get(`${ID}-us-0`)), ...configsOf(after.get(`${ID}-us-1`))].sort());
    const { Volumes: volumes } = await docker.listVolumes({ filters: { name: [`torfleet-${ID}`] } });
    assert.deepEqual(
      volumes
        .map((v) => v.Name)
        .filter((n) => n.startsWith(`torfleet-${ID}`))
        .sort(),
      [`torfleet-${ID}-us-0`, `torfleet-${ID}-us-1`],
    );
  });

  test('end to end on a private Tor network: `torfleet run` starts proxies as services whose traffic leaves through their pinned exits', async () => {
    const E2E = 31200; // the network on 31200-31230, the API and proxies above it: 31200-31299
    const network: PrivateTorNetwork = await startPrivateTorNetwork(path.join(dir, 'tor'), E2E);
    let service: ChildProcess | undefined;
    try {
      const authorities = network.dirAuthorities.map((line) => `    - "${line}"`).join('\n');
      const e2eFleet = path.join(dir, 'e2e-fleet.yaml');
      writeFileSync(
        e2eFleet,
        `apiVersion: torfleet/v1\nkind: Fleet\ntor:\n  testingNetwork: true\n  geoipFile: ${network.geoipFile}\n  dirAuthorities:\n${authorities}\npools:\n` +
          `  - {name: ${ID}-xus, geo: US, mode: strict, count: 1, basePort: ${E2E + 51}}\n` +
          `  - {name: ${ID}-xworld, geo: NON_US, mode: strict, count: 1, basePort: ${E2E + 52}}\n`,
      );
      const api = `127.0.0.1:${E2E + 50}`;
      service = spawn(process.execPath, [TORFLEET_BIN, 'run'], {
        env: cleanEnv({
          ...ENV,
          TORFLEET_FLEET_FILE: e2eFleet,
          TORFLEET_DB: path.join(dir, 'e2e-nodes.db'),
          TORFLEET_CONSENSUS_URL: network.consensusUrl,
          TORFLEET_GEOIP_FILE: network.geoipFile,
          TORFLEET_LISTEN: api,
          TORFLEET_RESYNC_INTERVAL: '5s',
          TORFLEET_PROBE_URL: network.echoUrl,
          TORFLEET_PROBE_INTERVAL: '2s',
          TORFLEET_PROBE_TIMEOUT: '5s',
        }),
        stdio: 'ignore',
      });
      interface View {
        name: string;
        state: string;
        node?: string | null;
        exit: { fingerprints: string[] };
      }
      const views = await waitFor(
        'both proxies running as services',
        async () => {
          const answer = await fetch(`http://${api}/proxies`).catch(() => undefined);
          if (!answer?.ok) return undefined;
          const list = ((await answer.json()) as { proxies: View[] }).proxies;
          return list.filter((v) => v.state === 'running').length === 2
            ? new Map(list.map((v) => [v.name, v]))
            : undefined;
        },
        120_000,
      );
      assert.deepEqual(views.get(`${ID}-xus-0`)?.exit.fingerprints, [network.exits.us.fingerprint]);
      assert.deepEqual(views.get(`${ID}-xworld-0`)?.exit.fingerprints, [network.exits.de.fingerprint]);
      assert.equal(views.get(`${ID}-xus-0`)?.node, hostname());
      assert.ok((await ours()).has(`${ID}-xus-0`), 'a swarm service');
      const egress = async (port: number): Promise<string | undefined> => {
        try {
          const { stdout } = await run('curl', [
            '-s',
            '-m',
            '10',
            '--socks5-hostname',
            `127.0.0.1:${port}`,
            network.echoUrl,
          ]);
          return (JSON.parse(stdout) as { IP?: string }).IP;
        } catch {
          return undefined;
        }
      };
      assert.equal(
        await waitFor('traffic through the US proxy', () => egress(E2E + 51), 90_000),
        network.exits.us.address,
      );
      assert.equal(
        await waitFor('traffic through the NON_US proxy', () => egress(E2E + 52), 90_000),
        network.exits.de.address,
      );
    } finally {
      if (service && service.exitCode === null) {
        const exited = new Promise((resolve) => service?.once('exit', resolve));
        service.kill('SIGTERM');
        await exited;
      }
      await removeTestSwarmObjects(docker, ID);
      await network.stop();
    }
  });
});
