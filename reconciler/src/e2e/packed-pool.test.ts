import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import Docker from 'dockerode';
import { removeTestContainers } from '../testing/docker-cleanup.js';
import { killRecordedTors } from '../testing/recorded-tors.js';
import { networkRunEnv } from '../testing/network-run-env.js';
import { TORFLEET_BIN } from '../testing/run-cli.js';
import { socksEgress } from '../testing/socks-egress.js';
import { tempDir } from '../testing/temp-dir.js';
import { startPrivateTorNetwork, type PrivateTorNetwork } from '../tor-network/private-tor-network.js';
import { waitFor } from '../wait-for.js';

/**
 * Packed pools end to end (issue 14): `torfleet run` on a private Tor network with six exits, a packed pool of
 * strict NON_US proxies (two per shared tor) beside a pool with a tor per proxy, on the process runtime and on
 * Docker. Traffic leaves through each proxy's own exit; scaling the packed pool restarts no shared tor and
 * leaves the other proxies' circuits alone; a reconciler killed with -9 and started on a broken fleet serves
 * the packed proxies again from their records; unpacking the pool hands each proxy a tor of its own.
 */
const docker = new Docker();
const BASE = 31500; // this file's own port block, 31500-31599: process 31500-31510, docker 31520-31530, network 31540+
let network: PrivateTorNetwork;

interface Circuit {
  circuitBuilt: boolean;
  circuitId: string | null;
  exit: string | null;
}
interface ProxyView {
  name: string;
  state: string;
  port: number;
  tor: string | null;
  containerId: string | null;
  exit: { fingerprints: string[]; addresses: string[] };
  health: { bootstrap: number | null; circuit?: Circuit | null } | null;
}

/** The address the echo server saw through a proxy's SOCKS port. */
const egress = (port: number): Promise<string | undefined> => socksEgress(port, network.echoUrl);

/** One runtime's run: its own instance, git repository, state dir, API and proxy ports. */
function scenario(runtime: 'process' | 'docker', offset: number): void {
  // Pools are named after the instance so the containers are `torfleet-test-pk…` (at most 31 characters).
  const id = `test-pk${runtime[0] ?? ''}${process.pid.toString(36)}`;
  const packed = `${id}-p`;
  const own = `${id}-own`;
  const dir = tempDir(`packed-${runtime}`);
  const work = path.join(dir, 'work');
  const bare = path.join(dir, 'fleet.git');
  const stateDir = path.join(dir, 'state');
  const api = `127.0.0.1:${BASE + offset}`;
  const packedPort = BASE + offset + 1;
  const ownPort = BASE + offset + 10;
  let service: ChildProcess | undefined;

  const git = (...args: string[]): string =>
    execFileSync('git', ['-c', 'user.email=e2e@torfleet.test', '-c', 'user.name=e2e', ...args], {
      cwd: work,
      encoding: 'utf8',
    });
  const commit = (packedCount: number, packing = '    packing: {proxiesPerTor: 2}\n', broken = false): void => {
    const authorities = network.dirAuthorities.map((line) => `    - "${line}"`).join('\n');
    const pools =
      `  - name: ${packed}\n    geo: NON_US\n    mode: strict\n    count: ${packedCount}\n    basePort: ${packedPort}\n${packing}` +
      `  - {name: ${own}, geo: US, mode: strict, count: 1, basePort: ${ownPort}}\n`;
    writeFileSync(
      path.join(work, 'fleet', 'fleet.yaml'),
      `apiVersion: torfleet/v1\nkind: Fleet\ntor:\n  testingNetwork: true\n  geoipFile: ${network.geoipFile}\n  dirAuthorities:\n${authorities}\npools:\n${broken ? '  - name: [broken\n' : pools}`,
    );
    git('add', '.');
    git('commit', '-qm', 'fleet');
    git('push', '-q', 'origin', 'HEAD:main');
  };
  const start = (): ChildProcess =>
    spawn(process.execPath, [TORFLEET_BIN, 'run'], {
      env: networkRunEnv(
        network,
        { instance: id, runtime, repo: bare, db: path.join(dir, 'nodes.db'), stateDir, api },
        { TORFLEET_RESYNC_INTERVAL: '5s', TORFLEET_PROBE_INTERVAL: '2s' },
      ),
      // Its log, for a failure's post-mortem: <tmp>/packed-<runtime>-*/run.log.
      stdio: ['ignore', openSync(path.join(dir, 'run.log'), 'a'), openSync(path.join(dir, 'run.log'), 'a')],
    });
  const stop = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    const current = service;
    if (!current || current.exitCode !== null || current.signalCode !== null) return;
    const exited = new Promise((resolve) => current.once('exit', resolve));
    current.kill(signal);
    await exited;
  };
  const views = async (): Promise<Map<string, ProxyView>> => {
    try {
      const answer = (await (await fetch(`http://${api}/proxies`)).json()) as { proxies: ProxyView[] };
      return new Map(answer.proxies.map((p) => [p.name, p]));
    } catch {
      return new Map();
    }
  };
  /** Every wanted proxy running, and each packed one with a built circuit. */
  const allServing = (count: number) => async (): Promise<Map<string, ProxyView> | undefined> => {
    const now = await views();
    const members = [...now.values()].filter((v) => v.name.startsWith(`${packed}-`));
    const ready =
      now.get(`${own}-0`)?.state === 'running' &&
      members.length === count &&
      members.every((v) => v.state === 'running' && v.health?.circuit?.circuitBuilt === true);
    return ready ? now : undefined;
  };
  /** What serves through each packed proxy's SOCKS port: the echo server's view, compared with its pinned exit. */
  const checkEgress = async (now: ReadonlyMap<string, ProxyView>): Promise<void> => {
    for (const view of now.values()) {
      const address = await waitFor(`traffic through ${view.name}`, () => egress(view.port), 60_000);
      assert.equal(address, view.exit.addresses[0], `${view.name} leaves through its own exit`);
    }
  };
  const sharedTorUnits = (): string[] => {
    const root = path.join(stateDir, 'shared-tors');
    return existsSync(root) ? readdirSync(root).sort() : [];
  };

  describe(`a packed pool on the ${runtime} runtime`, { concurrency: false, timeout: 600_000 }, () => {
    before(async () => {
      await removeTestContainers(docker, id);
      execFileSync('git', ['init', '-q', '--bare', '-b', 'main', bare]);
      execFileSync('git', ['clone', '-q', bare, work], { stdio: 'ignore' });
      mkdirSync(path.join(work, 'fleet'));
    });
    after(async () => {
      await stop();
      await removeTestContainers(docker, id);
      killRecordedTors(stateDir); // the process runtime's tors outlive `run` by design
    });

    test('packed proxies share two tors and each leaves through its own exit, beside a proxy with its own tor', async () => {
      commit(3);
      service = start();
      const now = await waitFor('three packed proxies with circuits and the own one', allServing(3), 120_000);
      assert.deepEqual(
        [0, 1, 2].map((i) => now.get(`${packed}-${String(i)}`)?.tor),
        [`${packed}-tor0`, `${packed}-tor0`, `${packed}-tor1`],
      );
      assert.equal(now.get(`${own}-0`)?.tor, null);
      assert.equal(now.get(`${own}-0`)?.health?.circuit, undefined, 'a proxy with its own tor shows no packed circuit');
      const exits = new Set([...now.values()].map((v) => v.exit.fingerprints[0]));
      assert.equal(exits.size, 4, 'four proxies, four exits');
      assert.deepEqual(sharedTorUnits(), [`${packed}-tor0`, `${packed}-tor1`]);
      await checkEgress(now);
      const metrics = await (await fetch(`http://${api}/metrics`)).text();
      const lines = metrics.split('\n');
      assert.ok(lines.includes(`torfleet_packed_circuits{pool="${packed}",state="built"} 3`), metrics);
      assert.ok(lines.includes(`torfleet_packed_proxies{pool="${packed}",tor="${packed}-tor0"} 2`), metrics);
      // Its series exist from the start (early probes may be refused while circuits are being built).
      assert.ok(
        lines.some((line) => line.startsWith(`torfleet_packed_streams_refused_total{pool="${packed}"} `)),
        metrics,
      );
    });

    test('scaling up adds a proxy without restarting a shared tor or touching the others circuits', async () => {
      const beforeScale = await views();
      commit(4);
      const now = await waitFor('four packed proxies with circuits', allServing(4), 120_000);
      for (const name of [0, 1, 2].map((i) => `${packed}-${String(i)}`)) {
        assert.equal(now.get(name)?.containerId, beforeScale.get(name)?.containerId, `${name}'s shared tor kept`);
        assert.equal(
          now.get(name)?.health?.circuit?.circuitId,
          beforeScale.get(name)?.health?.circuit?.circuitId,
          `${name}'s circuit kept`,
        );
      }
      const added = now.get(`${packed}-3`);
      assert.equal(added?.tor, `${packed}-tor1`);
      assert.ok(added);
      await checkEgress(new Map([[`${packed}-3`, added]]));
    });

    test('killed with -9 and started on a broken fleet: the packed proxies serve again from their records', async () => {
      const served = await views();
      await stop('SIGKILL');
      commit(4, undefined, true);
      service = start();
      // The pass fails (the fleet does not parse), so GET /proxies has no plan to show: the controllers start
      // from the records alone, and the proxies' own SOCKS ports tell.
      for (const view of [...served.values()].filter((v) => v.tor !== null)) {
        const address = await waitFor(`traffic through ${view.name} again`, () => egress(view.port), 60_000);
        assert.equal(address, view.exit.addresses[0], `${view.name} leaves through its own exit`);
      }
    });

    test('unpacking the pool gives each proxy a tor of its own and removes the shared tors', async () => {
      commit(4, '');
      const now = await waitFor(
        'four proxies with tors of their own',
        async () => {
          const current = await views();
          const members = [...current.values()].filter((v) => v.name.startsWith(`${packed}-`));
          return members.length === 4 && members.every((v) => v.state === 'running' && v.tor === null)
            ? current
            : undefined;
        },
        120_000,
      );
      await waitFor('shared tors removed', () => sharedTorUnits().length === 0, 60_000);
      await checkEgress(new Map([...now].filter(([name]) => name.startsWith(`${packed}-`))));
    });
  });
}

// Registered first, so it runs before the temp dirs' removal (root hooks run in order): no tor writes meanwhile.
after(async () => {
  await network.stop();
});
const networkDir = tempDir('packed-net');
before(async () => {
  network = await startPrivateTorNetwork(path.join(networkDir, 'tor'), BASE + 40, { extraExits: 4 });
});
scenario('process', 0);
scenario('docker', 20);
