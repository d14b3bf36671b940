import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import Docker from 'dockerode';
import type { ObservedSharedTor, ProxySpec } from '../plan/plan-types.js';
import type { SharedTorSpec } from '../plan/shared-tor-types.js';
import { removeTestContainers } from '../testing/docker-cleanup.js';
import { TEST_TOR } from '../testing/fleet-fixtures.js';
import { tempDir } from '../testing/temp-dir.js';
import { torHealth } from '../tor-control/control-client.js';
import type { TorrcPaths } from '../torrc/render-torrc.js';
import { waitFor } from '../wait-for.js';
import { DockerRuntime } from './docker-runtime.js';
import { SHARED_TOR_MEMORY_LIMIT_MB } from './docker-shared-tors.js';
import { ProcessRuntime } from './process-runtime.js';
import type { ProxyRuntime, RuntimeEvent } from './proxy-runtime.js';
import { sharedTorLabels } from './shared-tor-labels.js';
import type { SharedTorRuntime } from './shared-tor-runtime.js';
import { torsUsing } from './tor-processes.js';

/**
 * Shared tors of packed pools on the docker and process runtimes, against the real engine and real tors
 * (DisableNetwork 1, SocksPort 0: no port, nothing dialled). Containers are named torfleet-test-shtor-<run>-*.
 */
const ID = `test-shtor-${process.pid.toString(36)}`;
const TOR = `${ID}-tor0`;
const PROXY = `${ID}-0`;
const spec = {
  name: TOR,
  pool: ID,
  index: 0,
  tor: TEST_TOR,
  specHash: 'abc123',
  proxies: [],
} as unknown as SharedTorSpec;
const proxySpec = {
  name: PROXY,
  pool: ID,
  specHash: 'def456',
  exits: { fingerprints: [] },
  tor: TEST_TOR,
} as unknown as ProxySpec;

/** The minimal torrc of a shared tor (checked with tor --verify-config): no port; its controller adds them. */
function sharedTorrc(paths: TorrcPaths, socksPort = 'SocksPort 0'): string {
  return [
    socksPort,
    `DataDirectory ${paths.dataDirectory}`,
    `ControlSocket ${paths.controlSocket}`,
    'CookieAuthentication 1',
    'DisableNetwork 1',
    '__LeaveStreamsUnattached 1',
    'Log notice stdout',
    '',
  ].join('\n');
}

type Runtime = ProxyRuntime & { readonly sharedTors: SharedTorRuntime };

interface Harness {
  readonly stateDir: string;
  /** A new runtime object on the same state: what a restarted reconciler builds. */
  make(): Runtime;
  labelsOf(tor: ObservedSharedTor): Promise<Record<string, string>>;
  /** Kills its tor behind the runtime's back. */
  kill(tor: ObservedSharedTor): Promise<void>;
  /** Plants an object with these labels as anyone with engine or disk access could: its id as ignored() names it. */
  forge(suffix: string, labels: Record<string, string>): Promise<string>;
  exists(id: string): Promise<boolean>;
}

const docker = new Docker();

function dockerHarness(): Harness {
  const stateDir = path.join(tempDir('shtor-docker'), 'state');
  return {
    stateDir,
    make: () => new DockerRuntime(docker, { stateDir, instance: ID }),
    labelsOf: async (tor) => {
      const labels = Object.entries((await docker.getContainer(tor.id).inspect()).Config.Labels);
      return Object.fromEntries(labels.filter(([key]) => key.startsWith('torfleet.'))); // not the image's own
    },
    kill: async (tor) => {
      await docker.getContainer(tor.id).kill();
    },
    forge: async (suffix, labels) => {
      const container = await docker.createContainer({
        name: `torfleet-${ID}-${suffix}`,
        Image: TEST_TOR.image,
        Cmd: ['--version'],
        Labels: labels,
      });
      return container.id;
    },
    exists: (id) =>
      docker
        .getContainer(id)
        .inspect()
        .then(() => true)
        .catch(() => false),
  };
}

function processHarness(): Harness {
  const stateDir = path.join(tempDir('shtor-process'), 'state');
  const recordOf = (name: string): { pid: number | null; labels: Record<string, string> } =>
    JSON.parse(readFileSync(path.join(stateDir, 'shared-tors', name, 'process.json'), 'utf8')) as {
      pid: number | null;
      labels: Record<string, string>;
    };
  return {
    stateDir,
    make: () => new ProcessRuntime({ stateDir, instance: ID, watchIntervalMs: 200 }),
    labelsOf: (tor) => Promise.resolve(recordOf(tor.name).labels),
    kill: (tor) => {
      for (const pid of torsUsing(path.join(stateDir, 'shared-tors', tor.name, 'torrc'))) process.kill(pid, 'SIGKILL');
      return Promise.resolve();
    },
    forge: (suffix, labels) => {
      const dir = path.join(stateDir, 'shared-tors', suffix);
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, 'process.json'), JSON.stringify({ pid: null, startedAt: 'x', labels }));
      return Promise.resolve(dir);
    },
    exists: (id) => Promise.resolve(existsSync(id)),
  };
}

/** SIGKILLs every tor started with a torrc of this state dir (only this file's own tors). */
function killTors(stateDir: string): void {
  for (const kind of ['shared-tors', 'proxies'])
    for (const name of [TOR, PROXY, `${ID}-tor1`])
      for (const pid of torsUsing(path.join(stateDir, kind, name, 'torrc'))) process.kill(pid, 'SIGKILL');
}

for (const [runtimeName, harnessOf] of [
  ['docker', dockerHarness],
  ['process', processHarness],
] as const) {
  describe(`${runtimeName} runtime: shared tors`, { concurrency: false, timeout: 120_000 }, () => {
    const harness = harnessOf();
    let runtime = harness.make();
    let created: ObservedSharedTor;
    before(() => removeTestContainers(docker, ID));
    after(async () => {
      killTors(harness.stateDir);
      await removeTestContainers(docker, ID);
    });

    test('create: running, with its spec hash and the shared-tor labels (never torfleet.proxy)', async () => {
      created = await runtime.sharedTors.createSharedTor(
        spec,
        sharedTorrc(runtime.sharedTors.sharedTorrcPaths(spec)),
        'r1',
      );
      assert.deepEqual({ ...created, id: '' }, { name: TOR, pool: ID, id: '', state: 'running', specHash: 'abc123' });
      const labels = await harness.labelsOf(created);
      for (const [key, value] of Object.entries(sharedTorLabels(spec, ID, 'r1'))) assert.equal(labels[key], value, key);
      assert.equal(labels['torfleet.proxy'], undefined);
      assert.equal(labels['torfleet.exits'], undefined);
      assert.ok(existsSync(path.join(harness.stateDir, 'shared-tors', TOR, 'torrc')));
      assert.equal(
        runtime.sharedTors.sharedTorDataDirectory(TOR),
        path.join(harness.stateDir, 'shared-tors', TOR, 'data'),
      );
    });

    test('a proxy and a shared tor side by side are each listed only by their own list, nothing ignored', async () => {
      const proxyPaths = runtime.torrcPaths(proxySpec);
      await runtime.create(proxySpec, sharedTorrc(proxyPaths), 'r1');
      const proxies = await runtime.list();
      assert.deepEqual(
        proxies.map((p) => [p.name, p.state]),
        [[PROXY, 'running']],
      );
      const tors = await runtime.sharedTors.listSharedTors();
      assert.deepEqual(tors, [created]);
      assert.deepEqual(runtime.ignored(), []);
    });

    test('adopt: a new runtime object (a restarted reconciler) finds the same shared tor running', async () => {
      if (runtimeName === 'process') {
        // Adopted by its torrc from /proc, never by the recorded pid: a record that lost its pid finds it again.
        const record = path.join(harness.stateDir, 'shared-tors', TOR, 'process.json');
        const text = readFileSync(record, 'utf8');
        writeFileSync(record, text.replace(/"pid": \d+/, '"pid": null'));
      }
      runtime = harness.make();
      assert.deepEqual(await runtime.sharedTors.listSharedTors(), [created]);
      assert.deepEqual(
        (await runtime.list()).map((p) => p.name),
        [PROXY],
      );
    });

    test('its ControlSocket in sharedTorDataDirectory answers', async () => {
      const dataDir = runtime.sharedTors.sharedTorDataDirectory(TOR);
      await waitFor(
        'the control socket and cookie',
        () => existsSync(path.join(dataDir, 'control')) && existsSync(path.join(dataDir, 'control_auth_cookie')),
      );
      const health = await torHealth(dataDir);
      assert.deepEqual([health.bootstrapProgress, health.networkEnabled], [0, false]);
    });

    if (runtimeName === 'docker') {
      test('the container: torfleet-<name>, host network, restart unless stopped, init, its own memory limit', async () => {
        const inspect = await docker.getContainer(created.id).inspect();
        assert.equal(inspect.Name, `/torfleet-${TOR}`);
        assert.equal(inspect.Config.Image, TEST_TOR.image);
        assert.equal(inspect.HostConfig.NetworkMode, 'host');
        assert.equal(inspect.HostConfig.RestartPolicy?.Name, 'unless-stopped');
        assert.equal(inspect.HostConfig.Init, true);
        assert.equal(inspect.HostConfig.Memory, SHARED_TOR_MEMORY_LIMIT_MB * 1024 * 1024);
        const dir = path.join(harness.stateDir, 'shared-tors', TOR);
        assert.deepEqual(inspect.HostConfig.Binds, [`${dir}/torrc:/etc/tor/torrc:ro`, `${dir}/data:/var/lib/tor`]);
      });
    }

    test('forged labels: ignored and reported, never listed, never removed', async () => {
      const base = sharedTorLabels(spec, ID, 'r1');
      const evil = await harness.forge('evil', { ...base, 'torfleet.shared-tor': '../../victim' });
      const both = await harness.forge(`${ID}-tor1`, {
        ...base,
        'torfleet.shared-tor': `${ID}-tor1`,
        'torfleet.proxy': PROXY,
      });
      assert.deepEqual(await runtime.sharedTors.listSharedTors(), [created]);
      assert.deepEqual(
        (await runtime.list()).map((p) => p.name),
        [PROXY],
      );
      const ignored = runtime.ignored();
      assert.deepEqual(ignored.map((o) => o.id).sort(), [evil, both].sort());
      assert.match(ignored.find((o) => o.id === evil)?.reason ?? '', /torfleet\.shared-tor="\.\.\/\.\.\/victim"/);
      // Its name's removal is refused: it carries a proxy label too.
      const forged = { name: `${ID}-tor1`, pool: ID, id: both, state: 'stopped' as const, specHash: '' };
      await assert.rejects(runtime.sharedTors.removeSharedTor(forged, { forget: true }), { code: 'RUNTIME_CONFLICT' });
      // A proxy's container is never removed as a shared tor (the process runtime finds a shared tor by its
      // name), nor is a proxy's directory addressed by a shared tor's name.
      const proxy = (await runtime.list())[0];
      assert.ok(proxy);
      if (runtimeName === 'docker') {
        await assert.rejects(runtime.sharedTors.removeSharedTor({ ...created, id: proxy.id }, { forget: true }), {
          code: 'RUNTIME_CONFLICT',
        });
      }
      await assert.rejects(runtime.sharedTors.removeSharedTor({ ...created, name: PROXY }, { forget: true }), {
        message: /^refusing /,
      });
      assert.ok(await harness.exists(evil));
      assert.ok(await harness.exists(both));
      assert.deepEqual(
        (await runtime.list()).map((p) => [p.name, p.state]),
        [[PROXY, 'running']],
      );
    });

    test("its tor's death reaches watch() (proxy: null), and the next list shows it", async () => {
      const events: RuntimeEvent[] = [];
      const stop = runtime.watch((event) => events.push(event));
      try {
        await new Promise((resolve) => setTimeout(resolve, 500));
        await harness.kill(created);
        await waitFor('its event', () => events.length > 0, 15_000);
        assert.ok(
          events.every((e) => e.proxy === null),
          JSON.stringify(events),
        );
        assert.ok(
          events.some((e) => ['die', 'kill', 'exited'].includes(e.action)),
          JSON.stringify(events),
        );
      } finally {
        await stop();
      }
      if (runtimeName === 'process') {
        const [tor] = await runtime.sharedTors.listSharedTors();
        assert.equal(tor?.state, 'stopped');
      }
    });

    test('remove with forget: its container or tor and its files are gone, nothing else is', async () => {
      const [tor] = await runtime.sharedTors.listSharedTors();
      assert.ok(tor);
      await runtime.sharedTors.removeSharedTor(tor, { forget: true });
      assert.deepEqual(await runtime.sharedTors.listSharedTors(), []);
      assert.ok(!existsSync(path.join(harness.stateDir, 'shared-tors', TOR)));
      assert.deepEqual(torsUsing(path.join(harness.stateDir, 'shared-tors', TOR, 'torrc')), []);
      if (runtimeName === 'docker') assert.equal(await harness.exists(tor.id), false);
      // The proxy beside it and the forged objects are untouched.
      assert.ok(existsSync(path.join(harness.stateDir, 'proxies', PROXY, 'torrc')));
      assert.deepEqual(
        (await runtime.list()).map((p) => [p.name, p.state]),
        [[PROXY, 'running']],
      );
      assert.equal(runtime.ignored().length, 2);
      const [proxy] = await runtime.list();
      assert.ok(proxy);
      await runtime.remove(proxy, { forget: true });
    });
  });
}
