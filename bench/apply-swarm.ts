/**
 * The swarm runtime against the docker runtime on this machine's engine (issue 13), in one run: apply 20 and 100
 * new proxies as containers and as Swarm services (the pass, and for services until every task runs), and a no-op
 * pass with 100 services. Needs a swarm (`docker swarm init --advertise-addr 127.0.0.1`; one made here is left
 * again). Proxies run with DisableNetwork 1 on 127.0.0.1:26000-26099; everything is torfleet-test-bench-*, removed
 * at the end. Alone: `npx tsc -p tsconfig.json && node dist/bench/apply-swarm.js`.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
import type { ProxyRuntime } from '../reconciler/src/runtime/proxy-runtime.js';
import { SwarmRuntime } from '../reconciler/src/runtime/swarm-runtime.js';
import { removeTestContainers } from '../reconciler/src/testing/docker-cleanup.js';
import { sharedConsensusFile, sharedGeoIpFile } from '../reconciler/src/testing/shared-data.js';
import { joinTestSwarm, removeTestSwarmObjects } from '../reconciler/src/testing/swarm-cleanup.js';

const PREFIX = 'test-bench';

function fleet(count: number): string {
  const pool = `  - {name: ${PREFIX}-us, geo: US, mode: strict, count: ${count}, basePort: 26000}`;
  return `apiVersion: torfleet/v1\nkind: Fleet\ntor:\n  disableNetwork: true\npools:\n${pool}\n`;
}

async function untilAllRunning(runtime: ProxyRuntime, count: number): Promise<void> {
  const deadline = Date.now() + 600_000;
  while ((await runtime.list()).filter((p) => p.state === 'running').length < count) {
    if (Date.now() > deadline) throw new Error(`not all ${count} proxies ran within 10 min`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

export async function benchApplySwarm(): Promise<void> {
  const docker = new Docker();
  const swarm = await joinTestSwarm();
  const work = mkdtempSync(path.join(tmpdir(), 'torfleet-bench-swarm-'));
  const fleetFile = path.join(work, 'fleet.yaml');
  const store = NodeStore.open(path.join(work, 'nodes.db'));
  await refreshNodes({ source: createConsensusSource(sharedConsensusFile, sharedGeoIpFile), store });
  const options = { stateDir: path.join(work, 'state'), instance: PREFIX };
  const runtimes = { containers: new DockerRuntime(docker, options), services: new SwarmRuntime(docker, options) };
  const depsOf = (runtime: ProxyRuntime): PassDependencies => ({
    source: createFileSource(fleetFile),
    store,
    runtime,
    template: readFileSync(packagePath('templates', 'torrc.tmpl'), 'utf8'),
    sharedTemplate: readFileSync(packagePath('templates', 'shared-torrc.tmpl'), 'utf8'),
    env: {},
  });
  const clean = async (): Promise<void> => {
    await removeTestContainers(docker, PREFIX);
    await removeTestSwarmObjects(docker, PREFIX);
  };
  await clean();
  try {
    console.log('\n## swarm services vs containers (one node, DisableNetwork 1 proxies, host networking)\n');
    console.log('| proxies | runtime | apply pass | until all run | failures |');
    console.log('| --- | --- | --- | --- | --- |');
    for (const count of [20, 100]) {
      for (const [kind, runtime] of Object.entries(runtimes)) {
        writeFileSync(fleetFile, fleet(count));
        const start = performance.now();
        const pass = await reconcilePass(depsOf(runtime));
        const applied = performance.now() - start;
        await untilAllRunning(runtime, count);
        const running = performance.now() - start;
        console.log(
          `| ${count} | ${kind} | ${(applied / 1000).toFixed(2)} s | ${(running / 1000).toFixed(2)} s | ${pass.result.failures.length} |`,
        );
        if (kind === 'services' && count === 100) {
          const times: number[] = [];
          for (let i = 0; i < 21; i++) {
            const at = performance.now();
            const { plan } = await planPass(depsOf(runtime));
            times.push(performance.now() - at);
            if (plan.changes.some((c) => c.action !== 'noop')) throw new Error('expected a no-op pass');
          }
          times.sort((a, b) => a - b);
          console.log(
            `\n- no-op pass with 100 running services (read fleet, node DB, list services + tasks + nodes, plan): p50 ${times[10]?.toFixed(1)} ms, p95 ${times[19]?.toFixed(1)} ms\n`,
          );
        }
        await clean();
      }
    }
  } finally {
    await clean();
    store.close();
    rmSync(work, { recursive: true, force: true });
    await swarm.leave();
  }
}

if (process.argv[1] && import.meta.url.endsWith(path.basename(process.argv[1]))) await benchApplySwarm();
