/**
 * Reconcile budgets against the real Docker engine (issue 3): a no-op pass with 50 running proxies
 * (fleet read + node DB + Docker list + plan) < 100 ms; time to start 20 proxies; RSS of one proxy's tor.
 * Proxies run with DisableNetwork 1; containers are torfleet-test-bench-*, removed at the end.
 */
import { readFileSync } from 'node:fs';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import Docker from 'dockerode';
import { createFileSource } from '../reconciler/src/fleet-source/file-source.js';
import { createConsensusSource } from '../reconciler/src/nodes/consensus-source.js';
import { NodeStore } from '../reconciler/src/nodes/node-store.js';
import { refreshNodes } from '../reconciler/src/nodes/refresh-nodes.js';
import { packagePath } from '../reconciler/src/package-root.js';
import { planPass, reconcilePass, type PassDependencies } from '../reconciler/src/reconcile/reconcile-pass.js';
import { DockerRuntime } from '../reconciler/src/runtime/docker-runtime.js';
import { removeTestContainers } from '../reconciler/src/testing/docker-cleanup.js';
import { sharedConsensusFile, sharedGeoIpFile } from '../reconciler/src/testing/shared-data.js';

const PREFIX = 'test-bench';

function fleet(count: number, rotating = 0): string {
  const pools = [`  - {name: ${PREFIX}-us, geo: US, mode: strict, count: ${count}, basePort: 26000}`];
  if (rotating > 0)
    pools.push(`  - {name: ${PREFIX}-rot, geo: [DE], mode: rotating, count: ${rotating}, basePort: 26500}`);
  return `apiVersion: torfleet/v1\nkind: Fleet\ntor:\n  disableNetwork: true\npools:\n${pools.join('\n')}\n`;
}

function rssKb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
}

/** tor's own RSS: the child of the container's init (docker-init). */
function torRssMb(initPid: number): number {
  const children = readFileSync(`/proc/${initPid}/task/${initPid}/children`, 'utf8').trim().split(/\s+/).map(Number);
  return rssKb(children[0] ?? initPid) / 1024;
}

export async function benchApplyDocker(): Promise<void> {
  const docker = new Docker();
  const work = mkdtempSync(path.join(tmpdir(), 'torfleet-bench-docker-'));
  const fleetFile = path.join(work, 'fleet.yaml');
  const store = NodeStore.open(path.join(work, 'nodes.db'));
  await refreshNodes({ source: createConsensusSource(sharedConsensusFile, sharedGeoIpFile), store });
  const deps: PassDependencies = {
    source: createFileSource(fleetFile),
    store,
    runtime: new DockerRuntime(docker, { stateDir: path.join(work, 'state'), instance: PREFIX }),
    template: readFileSync(packagePath('templates', 'torrc.tmpl'), 'utf8'),
    sharedTemplate: readFileSync(packagePath('templates', 'shared-torrc.tmpl'), 'utf8'),
    env: {},
  };
  await removeTestContainers(docker, PREFIX);
  try {
    console.log('\n## reconcile against the real Docker engine (DisableNetwork 1 proxies, host networking)\n');
    writeFileSync(fleetFile, fleet(20));
    let start = performance.now();
    const first = await reconcilePass(deps);
    const twenty = performance.now() - start;
    console.log(
      `- apply 20 new proxies (render + tor --verify-config + create + start, 4 at a time): ${(twenty / 1000).toFixed(2)} s, ${first.result.failures.length} failures`,
    );

    writeFileSync(fleetFile, fleet(49, 1));
    await reconcilePass(deps);
    const times: number[] = [];
    for (let i = 0; i < 21; i++) {
      start = performance.now();
      const { plan } = await planPass(deps);
      times.push(performance.now() - start);
      if (plan.changes.some((c) => c.action !== 'noop')) throw new Error('expected a no-op pass');
    }
    times.sort((a, b) => a - b);
    console.log(
      `- no-op pass with 50 running proxies (read fleet, node DB, Docker list, plan): p50 ${times[10]?.toFixed(1)} ms, p95 ${times[19]?.toFixed(1)} ms`,
    );

    const containers = await docker.listContainers({ filters: { label: [`torfleet.instance=${PREFIX}`] } });
    const rss = async (proxy: string): Promise<number> => {
      const id = containers.find((c) => c.Labels['torfleet.proxy'] === proxy)?.Id ?? '';
      return torRssMb((await docker.getContainer(id).inspect()).State.Pid);
    };
    console.log(
      `- RSS of one proxy's tor (VmRSS of the tor process, DisableNetwork 1): strict ${(await rss(`${PREFIX}-us-0`)).toFixed(1)} MB (GeoIPFile ""), rotating ${(await rss(`${PREFIX}-rot-0`)).toFixed(1)} MB (loads GeoIP)`,
    );
  } finally {
    await removeTestContainers(docker, PREFIX);
    store.close();
    rmSync(work, { recursive: true, force: true });
  }
}
