import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { stringify } from 'yaml';
import { packagePath } from './package-root.js';
import { removeTestContainers } from './testing/docker-cleanup.js';
import { cleanEnv, TORFLEET_BIN } from './testing/run-cli.js';
import { byGeoCategory, startPrometheus, type PromSample, type TestPrometheus } from './testing/prometheus.js';
import { sharedConsensusFile, sharedGeoIpFile } from './testing/shared-data.js';
import { tempDir } from './testing/temp-dir.js';
import { waitFor } from './wait-for.js';

const run = promisify(execFile);
const DASHBOARDS = packagePath('monitoring', 'grafana', 'dashboards');

interface Panel {
  id: number;
  title: string;
  datasource: { uid: string };
  targets: { expr: string; datasource: { uid: string } }[];
}
const dashboards = readdirSync(DASHBOARDS).map((file) => ({
  file,
  json: JSON.parse(readFileSync(path.join(DASHBOARDS, file), 'utf8')) as { uid: string; panels: Panel[] },
}));
const panelsOf = (file: string): Panel[] => dashboards.find((d) => d.file === file)?.json.panels ?? [];

describe('Grafana dashboards', () => {
  test('three dashboards, provisioned from the folder the provider reads, against the provisioned datasource', () => {
    assert.deepEqual(dashboards.map((d) => d.file).sort(), ['control-plane.json', 'infrastructure.json', 'nodes.json']);
    const datasource = readFileSync(
      packagePath('monitoring', 'grafana', 'provisioning', 'datasources', 'prometheus.yml'),
      'utf8',
    );
    assert.match(datasource, /uid: prometheus/);
    for (const { file, json } of dashboards) {
      const ids = json.panels.map((p) => p.id);
      assert.equal(new Set(ids).size, ids.length, `${file}: panel ids repeat`);
      for (const panel of json.panels) {
        assert.equal(panel.datasource.uid, 'prometheus', `${file}: ${panel.title}`);
        assert.ok(panel.targets.length > 0 && panel.targets.every((t) => t.datasource.uid === 'prometheus'));
      }
    }
  });

  test("every panel's PromQL parses (promtool check rules over them as recording rules)", async () => {
    const rules = dashboards.flatMap(({ file, json }) =>
      json.panels.flatMap((panel) =>
        panel.targets.map((t, i) => ({
          record: `dashboard:${file.replace('.json', '').replace('-', '_')}:panel${panel.id}_${i}`,
          expr: t.expr,
        })),
      ),
    );
    const file = path.join(tempDir('dashboards'), 'panels.rules.yml');
    writeFileSync(file, stringify({ groups: [{ name: 'panels', rules }] }));
    const { stdout } = await run('promtool', ['check', 'rules', file]);
    assert.match(stdout, new RegExp(`SUCCESS: ${rules.length} rules found`));
  });
});

/**
 * A real Prometheus on loopback scrapes a real `torfleet run` (Docker runtime, DisableNetwork 1 proxies, one of
 * them packed on a shared tor); each control-plane and node panel's query then runs through Prometheus' HTTP API
 * and must return data.
 */
describe('dashboards against a real Prometheus scraping a running reconciler', { concurrency: false }, () => {
  const dir = tempDir('prometheus');
  const ID = `test-prom${process.pid.toString(36)}`;
  const PORT = 22000; // this file's own port block (see process-runtime.test.ts)
  const API = `127.0.0.1:${PORT}`;
  const PROMETHEUS = `127.0.0.1:${PORT + 1}`;
  const docker = new Docker();
  let service: ChildProcess;
  let prometheus: TestPrometheus;

  const query = (expr: string): Promise<PromSample[]> => prometheus.query(expr);

  before(async () => {
    await removeTestContainers(docker, ID);
    const fleetFile = path.join(dir, 'fleet.yaml');
    writeFileSync(
      fleetFile,
      `apiVersion: torfleet/v1\nkind: Fleet\ntor:\n  disableNetwork: true\npools:\n  - {name: ${ID}-us, geo: US, mode: strict, count: 2, basePort: ${PORT + 2}}\n  - {name: ${ID}-de, geo: [DE], mode: rotating, count: 1, basePort: ${PORT + 5}}\n  - {name: ${ID}-pk, geo: US, mode: strict, count: 1, basePort: ${PORT + 8}, packing: {proxiesPerTor: 10}}\n`,
    );
    service = spawn(process.execPath, [TORFLEET_BIN, 'run'], {
      env: cleanEnv({
        TORFLEET_INSTANCE: ID,
        TORFLEET_FLEET_FILE: fleetFile,
        TORFLEET_DB: path.join(dir, 'nodes.db'),
        TORFLEET_STATE_DIR: path.join(dir, 'state'),
        TORFLEET_NODE_SOURCE: 'consensus',
        TORFLEET_CONSENSUS_URL: sharedConsensusFile,
        TORFLEET_GEOIP_FILE: sharedGeoIpFile,
        TORFLEET_LISTEN: API,
        TORFLEET_RESYNC_INTERVAL: '1s',
      }),
      stdio: 'ignore',
    });
    prometheus = startPrometheus(dir, PROMETHEUS, API);
    await waitFor(
      'the reconciler to converge',
      // (/readyz stays 503 here: the shared 2022 node data is stale, as it should be.)
      async () => {
        const response = await fetch(`http://${API}/status`).catch(() => undefined);
        const status = (await response?.json()) as { conditions: { type: string; status: string }[] } | undefined;
        return status?.conditions.some((c) => c.type === 'Ready' && c.status === 'True');
      },
      30_000,
    );
    // API traffic and reconcile passes (every second) between scrapes, so rates and quantiles have data.
    for (let i = 0; i < 12; i++) {
      await fetch(`http://${API}/proxies`);
      await fetch(`http://${API}/proxies/nope`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    await waitFor(
      'Prometheus to hold a few scrapes',
      async () =>
        Number((await query('count_over_time(up{job="torfleet"}[1m])').catch(() => []))[0]?.value[1] ?? 0) >= 4,
      30_000,
    );
  });
  after(async () => {
    service.kill('SIGTERM');
    prometheus.stop();
    await removeTestContainers(docker, ID);
  });

  test('the control-plane and node panels all return data', async () => {
    for (const file of ['control-plane.json', 'nodes.json']) {
      for (const panel of panelsOf(file)) {
        for (const target of panel.targets) {
          const result = await query(target.expr);
          assert.ok(result.length > 0, `${file} "${panel.title}": no data for ${target.expr}`);
        }
      }
    }
  });

  test('and the data matches the fleet', async () => {
    const byGeo = byGeoCategory(await query('sum by (geo_category) (torfleet_active_proxy_containers)'));
    assert.deepEqual(byGeo, { US: '3', NON_US: '1' }, 'the packed proxy counts: it is served');
    const exits = byGeoCategory(await query('sum by (geo_category) (torfleet_available_tor_exit_nodes)'));
    assert.deepEqual(exits, { US: '294', NON_US: '1132' });
    const revision = await query('torfleet_fleet_info');
    assert.match(revision[0]?.metric.revision ?? '', /^file:[0-9a-f]{12}$/);
  });
});
