import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import Docker from 'dockerode';
import { packagePath } from '../package-root.js';
import { removeTestContainers } from '../testing/docker-cleanup.js';
import { byGeoCategory, startPrometheus, type PromSample, type TestPrometheus } from '../testing/prometheus.js';
import { cleanEnv, TORFLEET_BIN } from '../testing/run-cli.js';
import { socksEgress } from '../testing/socks-egress.js';
import { tempDir } from '../testing/temp-dir.js';
import { startPrivateTorNetwork, type PrivateTorNetwork } from '../tor-network/private-tor-network.js';
import { waitFor } from '../wait-for.js';

/**
 * End to end on a real private Tor network on loopback: `torfleet run` (git repository, Docker, the consensus
 * node source reading the network's directory port) starts proxies whose traffic really leaves through the
 * exit they are pinned to, as the echo server sees it.
 */
const docker = new Docker();
const ID = `test-e2e${process.pid.toString(36)}`;
const BASE = 21000; // this file's own port block (see process-runtime.test.ts)
const API = `127.0.0.1:${BASE + 20}`;
const US_PORT = BASE + 21;
const WORLD_PORT = BASE + 22;
const dir = tempDir('e2e');
const work = path.join(dir, 'work');
const bare = path.join(dir, 'fleet.git');
let network: PrivateTorNetwork;
let service: ChildProcess | undefined;
let prometheus: TestPrometheus | undefined;
const PROMETHEUS = `127.0.0.1:${BASE + 24}`;

const git = (...args: string[]): string =>
  execFileSync('git', ['-c', 'user.email=e2e@torfleet.test', '-c', 'user.name=e2e', ...args], {
    cwd: work,
    encoding: 'utf8',
  });

function commit(pools: string, extra = ''): string {
  const authorities = network.dirAuthorities.map((line) => `    - "${line}"`).join('\n');
  writeFileSync(
    path.join(work, 'fleet', 'fleet.yaml'),
    `apiVersion: torfleet/v1\nkind: Fleet\ntor:\n  testingNetwork: true\n  geoipFile: ${network.geoipFile}\n  dirAuthorities:\n${authorities}\npools:\n${pools}${extra}`,
  );
  git('add', '.');
  git('commit', '-qm', 'fleet');
  git('push', '-q', 'origin', 'HEAD:main');
  return git('rev-parse', 'HEAD').trim();
}
const US = `  - {name: ${ID}-us, geo: US, mode: strict, count: 1, basePort: ${US_PORT}}\n`;
const WORLD = `  - {name: ${ID}-world, geo: NON_US, mode: strict, count: 1, basePort: ${WORLD_PORT}}\n`;

function startService(): ChildProcess {
  return spawn(process.execPath, [TORFLEET_BIN, 'run'], {
    env: cleanEnv({
      TORFLEET_INSTANCE: ID,
      TORFLEET_FLEET_REPO: bare,
      TORFLEET_DB: path.join(dir, 'nodes.db'),
      TORFLEET_STATE_DIR: path.join(dir, 'state'),
      TORFLEET_NODE_SOURCE: 'consensus',
      TORFLEET_CONSENSUS_URL: network.consensusUrl,
      TORFLEET_GEOIP_FILE: network.geoipFile,
      TORFLEET_LISTEN: API,
      TORFLEET_RESYNC_INTERVAL: '5s',
      TORFLEET_PROBE_URL: network.echoUrl,
      TORFLEET_PROBE_INTERVAL: '2s',
      TORFLEET_PROBE_TIMEOUT: '5s',
    }),
    stdio: 'ignore',
  });
}

async function stopService(): Promise<void> {
  const current = service;
  if (!current || current.exitCode !== null || current.signalCode !== null) return;
  const exited = new Promise((resolve) => current.once('exit', resolve));
  current.kill('SIGTERM');
  await exited;
}

/** The address the echo server saw through a proxy's SOCKS port. */
const egress = (port: number): Promise<string | undefined> => socksEgress(port, network.echoUrl);

async function api<T>(route: string): Promise<T> {
  return (await (await fetch(`http://${API}${route}`)).json()) as T;
}

interface ProxyView {
  name: string;
  state: string;
  containerId: string | null;
  exit: { fingerprints: string[]; addresses: string[] };
  egress: { result: string; address: string | null } | null;
}
const proxies = async (): Promise<Map<string, ProxyView>> =>
  new Map((await api<{ proxies: ProxyView[] }>('/proxies')).proxies.map((p) => [p.name, p]));

const startedAt = async (id: string): Promise<string> => (await docker.getContainer(id).inspect()).State.StartedAt;

describe('on a private Tor network', { concurrency: false, timeout: 600_000 }, () => {
  before(async () => {
    await removeTestContainers(docker, ID);
    network = await startPrivateTorNetwork(path.join(dir, 'tor'), BASE);
    execFileSync('git', ['init', '-q', '--bare', '-b', 'main', bare]);
    execFileSync('git', ['clone', '-q', bare, work], { stdio: 'ignore' });
    mkdirSync(path.join(work, 'fleet'));
  });
  after(async () => {
    prometheus?.stop();
    await stopService();
    await removeTestContainers(docker, ID);
    await network.stop();
  });

  test('1. strict US and NON_US proxies: traffic leaves through the exit each is pinned to', async () => {
    commit(US + WORLD);
    service = startService();
    const both = await waitFor(
      'both proxies running',
      async () => {
        const views = await proxies().catch(() => new Map<string, ProxyView>());
        return [...views.values()].filter((v) => v.state === 'running').length === 2 ? views : undefined;
      },
      60_000,
    );
    assert.deepEqual(both.get(`${ID}-us-0`)?.exit.fingerprints, [network.exits.us.fingerprint]);
    assert.deepEqual(both.get(`${ID}-world-0`)?.exit.fingerprints, [network.exits.de.fingerprint]);
    assert.equal(
      await waitFor('traffic through the US proxy', () => egress(US_PORT), 60_000),
      network.exits.us.address,
    );
    assert.equal(
      await waitFor('traffic through the NON_US proxy', () => egress(WORLD_PORT), 60_000),
      network.exits.de.address,
    );
  });

  test("7. a real Prometheus scrapes the reconciler; the dashboards' queries return data matching the fleet", async () => {
    prometheus = startPrometheus(dir, PROMETHEUS, API);
    const query = (expr: string): Promise<PromSample[]> => (prometheus as TestPrometheus).query(expr);
    for (let i = 0; i < 6; i++) {
      await fetch(`http://${API}/proxies`);
      await new Promise((resolve) => setTimeout(resolve, 700));
    }
    const active = await waitFor(
      'active proxies by geo',
      async () => {
        const result = await query('sum by (geo_category) (torfleet_active_proxy_containers)').catch(() => []);
        const byGeo = byGeoCategory(result);
        return Number((await query('count_over_time(up{job="torfleet"}[1m])').catch(() => []))[0]?.value[1] ?? 0) >= 4
          ? byGeo
          : undefined;
      },
      30_000,
    );
    assert.deepEqual(active, { US: '1', NON_US: '1' });
    const dashboards = packagePath('monitoring', 'grafana', 'dashboards');
    for (const file of ['control-plane.json', 'nodes.json']) {
      const { panels } = JSON.parse(readFileSync(path.join(dashboards, file), 'utf8')) as {
        panels: { title: string; targets: { expr: string }[] }[];
      };
      for (const panel of panels) {
        for (const target of panel.targets) {
          // This fleet packs no pool: the packed pools' panels have data in dashboards.test.ts, whose fleet does.
          if (target.expr.includes('torfleet_packed_')) continue;
          assert.ok((await query(target.expr)).length > 0, `${file} "${panel.title}": no data for ${target.expr}`);
        }
      }
    }
  });

  test('2. docker kill: the proxy runs again on the same port and exit', async () => {
    const before = (await proxies()).get(`${ID}-us-0`);
    await docker.getContainer(before?.containerId ?? '').kill();
    await waitFor(
      'the proxy to run again',
      async () => (await proxies()).get(`${ID}-us-0`)?.state === 'running',
      30_000,
    );
    assert.equal(await waitFor('traffic again', () => egress(US_PORT), 60_000), network.exits.us.address);
    assert.deepEqual((await proxies()).get(`${ID}-us-0`)?.exit.fingerprints, before?.exit.fingerprints);
  });

  test('3. a commit removes a pool: its container goes, the other keeps its container', async () => {
    const before = await proxies();
    commit(US);
    // Gone from Docker, and from the API once the pass that removed it has finished.
    await waitFor('the world pool to be gone', async () => {
      const containers = await docker.listContainers({ all: true, filters: { label: [`torfleet.instance=${ID}`] } });
      return containers.length === 1 && (await proxies()).size === 1;
    });
    const after = await proxies();
    assert.deepEqual([...after.keys()], [`${ID}-us-0`]);
    assert.equal(after.get(`${ID}-us-0`)?.containerId, before.get(`${ID}-us-0`)?.containerId);
  });

  test('4. an invalid commit stalls with nothing changed and traffic flowing; a fix recovers', async () => {
    const before = (await proxies()).get(`${ID}-us-0`);
    const bad = commit(US.replace('strict', 'strikt'));
    await waitFor('Stalled', async () => {
      const status = await api<{ lastAttemptedRevision: string; conditions: { type: string; status: string }[] }>(
        '/status',
      );
      return (
        status.lastAttemptedRevision === bad &&
        status.conditions.some((c) => c.type === 'Stalled' && c.status === 'True')
      );
    });
    assert.equal(await egress(US_PORT), network.exits.us.address);
    const good = commit(US);
    await waitFor('Ready again', async () => {
      const status = await api<{ lastAppliedRevision: string; conditions: { type: string; status: string }[] }>(
        '/status',
      );
      return (
        status.lastAppliedRevision === good && status.conditions.some((c) => c.type === 'Ready' && c.status === 'True')
      );
    });
    assert.equal((await proxies()).get(`${ID}-us-0`)?.containerId, before?.containerId);
  });

  test('6. a restarted reconciler adopts the running containers: same ids, same start times', async () => {
    const before = (await proxies()).get(`${ID}-us-0`);
    const started = await startedAt(before?.containerId ?? '');
    await stopService();
    service = startService();
    await waitFor('the new reconciler to converge', async () => {
      const status = await api<{ passes: unknown[]; conditions: { type: string; status: string }[] }>('/status').catch(
        () => undefined,
      );
      return (
        status && status.passes.length > 0 && status.conditions.some((c) => c.type === 'Ready' && c.status === 'True')
      );
    });
    const after = (await proxies()).get(`${ID}-us-0`);
    assert.equal(after?.containerId, before?.containerId);
    assert.equal(await startedAt(after?.containerId ?? ''), started);
    assert.equal(await egress(US_PORT), network.exits.us.address);
  });

  test('8. torfleet checks each proxy through its SOCKS port and reports the exit it saw', async () => {
    const checked = await waitFor(
      'an egress check',
      async () => {
        const egressCheck = (await proxies()).get(`${ID}-us-0`)?.egress;
        return egressCheck === null ? undefined : egressCheck;
      },
      30_000,
    );
    assert.deepEqual([checked.result, checked.address], ['ok', network.exits.us.address]);
    const metrics = await (await fetch(`http://${API}/metrics`)).text();
    assert.match(metrics, /^torfleet_egress_checks_total\{result="ok"\} [1-9]/m);
  });

  test('5. the pinned exit disappears: the failing egress check re-pins the proxy to the other exit', async () => {
    commit(`  - {name: ${ID}-any, geo: [US, DE], mode: strict, count: 1, basePort: ${WORLD_PORT}}\n`);
    const first = await waitFor(
      'the proxy on either exit, carrying traffic',
      async () => {
        const view = (await proxies()).get(`${ID}-any-0`);
        const seen = view?.state === 'running' ? await egress(WORLD_PORT) : undefined;
        return seen && view?.exit.addresses.includes(seen) ? view : undefined;
      },
      60_000,
    );
    const pinned = first.exit.fingerprints[0];
    const [gone, other] =
      pinned === network.exits.us.fingerprint
        ? (['us', network.exits.de] as const)
        : (['de', network.exits.us] as const);
    await network.stopExit(gone);
    const moved = await waitFor(
      'the re-pin',
      async () => {
        const view = (await proxies()).get(`${ID}-any-0`);
        return view?.exit.fingerprints[0] === other.fingerprint && view.state === 'running' ? view : undefined;
      },
      90_000,
    );
    assert.notEqual(moved.containerId, first.containerId);
    assert.equal(await waitFor('traffic through the other exit', () => egress(WORLD_PORT), 60_000), other.address);
  });
});
