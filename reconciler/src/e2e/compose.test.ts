import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { parse, stringify } from 'yaml';
import { DEFAULT_TOR_IMAGE } from '../fleet/fleet-types.js';
import { packagePath } from '../package-root.js';
import { removeTestContainers } from '../testing/docker-cleanup.js';
import { cleanEnv } from '../testing/run-cli.js';
import { tempDir } from '../testing/temp-dir.js';
import { startPrivateTorNetwork, type PrivateTorNetwork } from '../tor-network/private-tor-network.js';
import { waitFor } from '../wait-for.js';

/**
 * `make up` / `make down` as users run them: docker-compose.yml's reconciler and Prometheus services, from images
 * built without a registry, brought up and down by reconciler/deploy/compose.sh (what the Makefile runs) with
 * Debian's docker-compose, against the private Tor network on loopback. Grafana and cAdvisor are not started:
 * their images come only from a registry, which this machine cannot reach.
 */
const run = promisify(execFile);
const docker = new Docker();
const ID = 'test-cmp';
const PROJECT = `torfleet-${ID}`;
const BASE = 31900; // this file's own port block: 31900-32767
const API = `127.0.0.1:${BASE + 50}`;
const PROMETHEUS = `127.0.0.1:${BASE + 51}`;
const PROXY_PORT = BASE + 60;
const PROXY = `${ID}-us-0`;
const RECONCILER_IMAGE = `torfleet/reconciler:${ID}`;
const PROMETHEUS_IMAGE = `torfleet/prometheus:${ID}`;
const dir = tempDir('cmp');
const state = path.join(dir, 'state');
const bare = path.join(dir, 'fleet.git');
const override = path.join(dir, 'docker-compose.override.yml');
const prometheusConfig = path.join(dir, 'prometheus.yml');
let network: PrivateTorNetwork | undefined;

const net = (): PrivateTorNetwork => {
  if (!network) throw new Error('the private Tor network is not up');
  return network;
};

/** What `make up` sees, pointed at this test's own everything; the caller's TORFLEET_* and COMPOSE_* left out. */
function composeEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(cleanEnv()).filter(([key]) => !key.startsWith('COMPOSE_')));
  return {
    ...env,
    COMPOSE_PROJECT_NAME: PROJECT,
    COMPOSE_FILE: `${packagePath('docker-compose.yml')}:${override}`,
    PULL: '0',
    TORFLEET_RECONCILER_IMAGE: RECONCILER_IMAGE,
    TORFLEET_PROMETHEUS_IMAGE: PROMETHEUS_IMAGE,
    TORFLEET_LISTEN: API,
    TORFLEET_STATE_DIR: state,
    TORFLEET_FLEET_REPO_DIR: bare,
    TORFLEET_INSTANCE: ID,
    TORFLEET_NODE_SOURCE: 'consensus',
    TORFLEET_CONSENSUS_URL: net().consensusUrl,
    TORFLEET_GEOIP_FILE: net().geoipFile,
    TORFLEET_PROBE_URL: net().echoUrl,
    TORFLEET_PROMETHEUS_LISTEN: PROMETHEUS,
    TORFLEET_PROMETHEUS_CONFIG: prometheusConfig,
  };
}

const composeSh = (...args: string[]) =>
  run(packagePath('reconciler', 'deploy', 'compose.sh'), args, { env: composeEnv(), cwd: packagePath() });

/**
 * Refuses to start anything unless the interpolated compose file gives the reconciler the private network's
 * consensus, probe URL and GeoIP file, and the committed fleet names only the private authorities: never the
 * public Tor network from a test.
 */
async function assertPrivateNetworkOnly(): Promise<void> {
  const { stdout } = await run('docker-compose', ['config'], { env: composeEnv(), cwd: packagePath() });
  const config = parse(stdout) as { services: Record<string, { environment: Record<string, string> }> };
  const env = config.services.reconciler?.environment ?? {};
  assert.deepEqual(
    [env.TORFLEET_NODE_SOURCE, env.TORFLEET_CONSENSUS_URL, env.TORFLEET_PROBE_URL, env.TORFLEET_GEOIP_FILE],
    ['consensus', net().consensusUrl, net().echoUrl, net().geoipFile],
  );
  const fleet = parse(
    execFileSync('git', ['--git-dir', bare, 'show', 'main:fleet/fleet.yaml'], { encoding: 'utf8' }),
  ) as {
    tor: { testingNetwork: boolean; dirAuthorities: string[] };
  };
  assert.equal(fleet.tor.testingNetwork, true);
  assert.deepEqual(fleet.tor.dirAuthorities, net().dirAuthorities);
}

function commitFleet(): void {
  const work = path.join(dir, 'work');
  execFileSync('git', ['init', '-q', '--bare', '-b', 'main', bare]);
  execFileSync('git', ['clone', '-q', bare, work], { stdio: 'ignore' });
  mkdirSync(path.join(work, 'fleet'));
  const authorities = net()
    .dirAuthorities.map((line) => `    - "${line}"`)
    .join('\n');
  writeFileSync(
    path.join(work, 'fleet', 'fleet.yaml'),
    `apiVersion: torfleet/v1\nkind: Fleet\ntor:\n  testingNetwork: true\n  geoipFile: ${net().geoipFile}\n  dirAuthorities:\n${authorities}\npools:\n  - {name: ${ID}-us, geo: US, mode: strict, count: 1, basePort: ${PROXY_PORT}}\n`,
  );
  for (const args of [
    ['add', '.'],
    ['commit', '-qm', 'compose fleet'],
    ['push', '-q', 'origin', 'HEAD:main'],
  ]) {
    execFileSync('git', ['-c', 'user.email=cmp@torfleet.test', '-c', 'user.name=cmp', ...args], {
      cwd: work,
      stdio: 'ignore',
    });
  }
}

/**
 * The repository's prometheus.yml with the reconciler's target at this test's listen address, a 2 s scrape
 * interval, and without cAdvisor (not started here); its rules are the repository's alerts.yml, as compose mounts.
 */
function writePrometheusConfig(): void {
  const config = parse(readFileSync(packagePath('monitoring', 'prometheus', 'prometheus.yml'), 'utf8')) as {
    global: Record<string, string>;
    scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
  };
  config.global.scrape_interval = '2s';
  config.scrape_configs = config.scrape_configs.filter((job) => job.job_name === 'torfleet');
  const torfleet = config.scrape_configs[0];
  assert.ok(torfleet, 'monitoring/prometheus/prometheus.yml has a torfleet job');
  torfleet.static_configs = [{ targets: [API] }];
  writeFileSync(prometheusConfig, stringify(config));
}

async function buildImages(): Promise<void> {
  await Promise.all([
    run(packagePath('reconciler', 'deploy', 'build-reconciler-image.sh'), [RECONCILER_IMAGE]),
    run(packagePath('monitoring', 'prometheus', 'build-prometheus-image.sh'), [PROMETHEUS_IMAGE]),
  ]);
}

async function cleanUp(): Promise<void> {
  if (network)
    await run('docker-compose', ['down', '-v', '--remove-orphans'], { env: composeEnv() }).catch(() => undefined);
  await removeTestContainers(docker, ID);
}

async function api<T>(route: string): Promise<T> {
  return (await (await fetch(`http://${API}${route}`)).json()) as T;
}
interface ProxyView {
  name: string;
  state: string;
  containerId: string | null;
}
interface NodesView {
  exits: { US: number; NON_US: number };
  relays: number;
  refreshed_at: string | null;
}
const proxy = async (): Promise<ProxyView | undefined> =>
  (await api<{ proxies: ProxyView[] }>('/proxies').catch(() => ({ proxies: [] }))).proxies.find(
    (p) => p.name === PROXY,
  );

/** The address the echo server saw, fetched through the proxy's SOCKS port (curl resolves nothing itself). */
async function egress(): Promise<string | undefined> {
  try {
    const { stdout } = await run('curl', [
      '-s',
      '-m',
      '10',
      '--socks5-hostname',
      `127.0.0.1:${PROXY_PORT}`,
      net().echoUrl,
    ]);
    return (JSON.parse(stdout) as { IP?: string }).IP;
  } catch {
    return undefined;
  }
}

/** An instant query's first value, evaluated now or at `time` (unix seconds). */
async function prometheusValue(expr: string, time?: number): Promise<string | undefined> {
  try {
    const at = time === undefined ? '' : `&time=${String(time)}`;
    const response = await fetch(`http://${PROMETHEUS}/api/v1/query?query=${encodeURIComponent(expr)}${at}`);
    const body = (await response.json()) as { data?: { result: { value: [number, string] }[] } };
    return body.data?.result[0]?.value[1];
  } catch {
    return undefined;
  }
}

/** The run-time settings of reconciler/Dockerfile's final stage: ENV, WORKDIR, VOLUME, ENTRYPOINT and CMD. */
function dockerfileRuntime(): {
  env: string[];
  workdir: string;
  volumes: string[];
  entrypoint: string[];
  cmd: string[];
} {
  const text = readFileSync(packagePath('reconciler', 'Dockerfile'), 'utf8').replace(/\\\n\s*/g, ' ');
  const lines = text.slice(text.lastIndexOf('\nFROM ')).split('\n');
  const arg = (instruction: string): string[] =>
    lines.filter((line) => line.startsWith(`${instruction} `)).map((line) => line.slice(instruction.length + 1).trim());
  return {
    env: arg('ENV').flatMap((line) => line.split(/\s+/)),
    workdir: arg('WORKDIR').at(-1) ?? '',
    volumes: arg('VOLUME'),
    entrypoint: JSON.parse(arg('ENTRYPOINT').at(-1) ?? '[]') as string[],
    cmd: JSON.parse(arg('CMD').at(-1) ?? '[]') as string[],
  };
}

const composeContainers = () =>
  docker.listContainers({ all: true, filters: { label: [`com.docker.compose.project=${PROJECT}`] } });

describe(
  'make up / make down: the compose stack on the private Tor network',
  { concurrency: false, timeout: 600_000 },
  () => {
    before(async () => {
      await removeTestContainers(docker, ID);
      await docker
        .getImage(DEFAULT_TOR_IMAGE)
        .inspect()
        .catch(() => {
          throw new Error(`the proxies' image ${DEFAULT_TOR_IMAGE} is not built: run make image`);
        });
      const [started] = await Promise.all([startPrivateTorNetwork(path.join(dir, 'tor'), BASE), buildImages()]);
      network = started;
      await cleanUp(); // a previous run's project, had it been left
      commitFleet();
      writeFileSync(
        override,
        stringify({
          services: {
            reconciler: { volumes: [`${path.dirname(net().geoipFile)}:${path.dirname(net().geoipFile)}:ro`] },
          },
        }),
      );
      writePrometheusConfig();
      await assertPrivateNetworkOnly();
    });
    after(async () => {
      await cleanUp();
      await network?.stop();
      for (const image of [RECONCILER_IMAGE, PROMETHEUS_IMAGE]) {
        await docker
          .getImage(image)
          .remove()
          .catch(() => undefined);
      }
    });

    test('the reconciler image built without a registry runs as reconciler/Dockerfile says', async () => {
      const { Config: config } = await docker.getImage(RECONCILER_IMAGE).inspect();
      const expected = dockerfileRuntime();
      assert.ok(expected.env.length > 0 && expected.entrypoint.length > 0);
      for (const entry of expected.env) assert.ok(config.Env.includes(entry), `ENV ${entry}`);
      assert.deepEqual(
        [config.WorkingDir, Object.keys(config.Volumes), config.Entrypoint, config.Cmd],
        [expected.workdir, expected.volumes, expected.entrypoint, expected.cmd],
      );
    });

    test('make up: the committed fleet becomes a proxy container whose traffic leaves through the private exit', async () => {
      await composeSh('up', 'reconciler', 'prometheus');
      const running = await waitFor(
        'the proxy running',
        async () => {
          const view = await proxy();
          return view?.state === 'running' ? view : undefined;
        },
        120_000,
      );
      const container = await docker.getContainer(running.containerId ?? '').inspect();
      assert.equal(container.Name, `/torfleet-${PROXY}`);
      assert.equal(container.Config.Labels['torfleet.instance'], ID);
      // The reconciler in compose read the private network: its consensus, its authorities in the proxy's torrc.
      const nodes = await api<NodesView>('/nodes');
      assert.deepEqual([nodes.relays, nodes.exits], [6, { US: 1, NON_US: 1 }]);
      const torrc = readFileSync(path.join(state, 'proxies', PROXY, 'torrc'), 'utf8');
      assert.deepEqual(
        [...torrc.matchAll(/^DirAuthority (.+)$/gm)].map((m) => m[1]),
        net().dirAuthorities,
      );
      assert.equal(await waitFor('traffic through the proxy', egress, 60_000), net().exits.us.address);
    });

    test("Prometheus in compose scrapes the reconciler's metrics", async () => {
      assert.equal(
        await waitFor(
          'a successful scrape',
          async () => (await prometheusValue('up{job="torfleet"}')) === '1' || undefined,
          60_000,
        ),
        true,
      );
      assert.equal(
        await waitFor(
          'the proxy in the metrics',
          () => prometheusValue('sum(torfleet_active_proxy_containers)'),
          30_000,
        ),
        '1',
      );
    });

    test('make down leaves the proxy running; make up adopts it (same container, same start), the node DB and the metrics kept', async () => {
      const before = await proxy();
      const id = before?.containerId ?? '';
      const started = (await docker.getContainer(id).inspect()).State.StartedAt;
      const nodes = await api<NodesView>('/nodes');
      const db = statSync(path.join(state, 'torfleet.db')).ino;
      const SCRAPES = 'count_over_time(up{job="torfleet"}[1h])';
      // Scrapes stored up to 5 s ago: every scrape up to then has been written.
      const [downAt, scrapes] = await waitFor(
        'stored scrapes',
        async () => {
          const at = Date.now() / 1000 - 5;
          const count = await prometheusValue(SCRAPES, at);
          return Number(count) > 0 ? ([at, count] as const) : undefined;
        },
        30_000,
      );

      await composeSh('down');
      assert.deepEqual(await composeContainers(), []);
      assert.equal((await docker.getContainer(id).inspect()).State.Running, true);
      assert.equal(await egress(), net().exits.us.address);

      await composeSh('up', 'reconciler', 'prometheus');
      await waitFor(
        'the new reconciler to converge',
        async () => {
          const status = await api<{ passes: unknown[]; conditions: { type: string; status: string }[] }>(
            '/status',
          ).catch(() => undefined);
          return (
            status &&
            status.passes.length > 0 &&
            status.conditions.some((c) => c.type === 'Ready' && c.status === 'True')
          );
        },
        60_000,
      );
      const after = await proxy();
      assert.equal(after?.containerId, id);
      assert.equal((await docker.getContainer(id).inspect()).State.StartedAt, started);
      assert.equal(statSync(path.join(state, 'torfleet.db')).ino, db);
      assert.deepEqual(await api<NodesView>('/nodes'), nodes); // not fetched again: the kept DB is fresh
      assert.equal(await egress(), net().exits.us.address);
      // Prometheus' volume outlived its container: the scrapes from before make down are still there.
      const kept = await waitFor('Prometheus to answer', () => prometheusValue(SCRAPES, downAt), 30_000);
      assert.equal(kept, scrapes);
    });
  },
);
