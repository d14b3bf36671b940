/**
 * GitOps latency (issue 3; swarm services: issue 13): `torfleet run` watching a local bare repository; a push of a
 * fleet with 20 proxies → first proxy running (budget < 2 s) → all 20 running (budget < 15 s). Real git, real
 * Docker, proxies with DisableNetwork 1; containers (or swarm services, on a swarm made on 127.0.0.1 and left again
 * when the engine had none) torfleet-test-latency-*, removed at the end.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import Docker from 'dockerode';
import { packagePath } from '../reconciler/src/package-root.js';
import { removeTestContainers } from '../reconciler/src/testing/docker-cleanup.js';
import { joinTestSwarm, removeTestSwarmObjects } from '../reconciler/src/testing/swarm-cleanup.js';
import { sharedConsensusFile, sharedGeoIpFile } from '../reconciler/src/testing/shared-data.js';
import { waitFor } from '../reconciler/src/wait-for.js';

const PREFIX = 'test-latency';
const RUNS = 3;

function fleet(count: number): string {
  return `apiVersion: torfleet/v1\nkind: Fleet\ntor:\n  disableNetwork: true\npools:\n  - {name: ${PREFIX}-us, geo: US, mode: strict, count: ${count}, basePort: 27000}\n`;
}

type Runtime = 'docker' | 'swarm';

async function once(docker: Docker, run: number, runtime: Runtime): Promise<{ first: number; all: number }> {
  const work = mkdtempSync(path.join(tmpdir(), 'torfleet-bench-git-'));
  const bare = path.join(work, 'fleet.git');
  const clone = path.join(work, 'clone');
  const git = (...args: string[]): void => {
    execFileSync('git', ['-c', 'user.email=b@torfleet.test', '-c', 'user.name=b', ...args], {
      cwd: clone,
      stdio: 'ignore',
    });
  };
  execFileSync('git', ['init', '-q', '--bare', '-b', 'main', bare]);
  execFileSync('git', ['clone', '-q', bare, clone], { stdio: 'ignore' });
  mkdirSync(path.join(clone, 'fleet'));
  writeFileSync(path.join(clone, 'fleet', 'fleet.yaml'), fleet(0));
  git('add', '.');
  git('commit', '-qm', 'empty fleet');
  git('push', '-q', 'origin', 'HEAD:main');
  const service = spawn(process.execPath, [packagePath('dist', 'reconciler', 'src', 'cli', 'main.js'), 'run'], {
    env: {
      ...process.env,
      TORFLEET_INSTANCE: `${PREFIX}-${run}`,
      TORFLEET_RUNTIME: runtime,
      TORFLEET_FLEET_REPO: bare,
      TORFLEET_DB: path.join(work, 'nodes.db'),
      TORFLEET_STATE_DIR: path.join(work, 'state'),
      TORFLEET_NODE_SOURCE: 'consensus',
      TORFLEET_CONSENSUS_URL: sharedConsensusFile,
      TORFLEET_GEOIP_FILE: sharedGeoIpFile,
      TORFLEET_LISTEN: `127.0.0.1:${27900 + run}`,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  service.stderr.on('data', (chunk: Buffer) => (log += chunk.toString()));
  try {
    await waitFor('the first pass', () => log.includes('"pass finished"'), 30_000);
    // A swarm task's container carries torfleet.swarm-instance (one node: every task runs here).
    const label = runtime === 'swarm' ? 'torfleet.swarm-instance' : 'torfleet.instance';
    const running = async (): Promise<number> =>
      (await docker.listContainers({ filters: { label: [`${label}=${PREFIX}-${run}`], status: ['running'] } })).length;
    writeFileSync(path.join(clone, 'fleet', 'fleet.yaml'), fleet(20));
    git('commit', '-qam', '20 proxies');
    const pushed = performance.now();
    git('push', '-q', 'origin', 'HEAD:main');
    await waitFor('a first proxy', async () => (await running()) >= 1, 60_000);
    const first = performance.now() - pushed;
    await waitFor('20 proxies', async () => (await running()) >= 20, 120_000);
    return { first, all: performance.now() - pushed };
  } finally {
    service.kill('SIGTERM');
    await new Promise((resolve) => service.on('exit', resolve));
    if (runtime === 'swarm') await removeTestSwarmObjects(docker, PREFIX);
    await removeTestContainers(docker, PREFIX);
    rmSync(work, { recursive: true, force: true });
  }
}

export async function benchCommitToRunning(): Promise<void> {
  const docker = new Docker();
  await removeTestContainers(docker, PREFIX);
  const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;
  console.log(`\n## commit → running (torfleet run, local bare repository watched, ${RUNS} runs each, median)\n`);
  for (const runtime of ['docker', 'swarm'] as const) {
    const swarm = runtime === 'swarm' ? await joinTestSwarm() : null;
    const results: { first: number; all: number }[] = [];
    try {
      for (let run = 0; run < RUNS; run++) results.push(await once(docker, run, runtime));
    } finally {
      await swarm?.leave();
    }
    const what = runtime === 'swarm' ? 'swarm services' : 'containers';
    console.log(
      `- ${what}: git push → first running ${(median(results.map((r) => r.first)) / 1000).toFixed(2)} s (runs: ${results.map((r) => (r.first / 1000).toFixed(2)).join(', ')}); → 20 running ${(median(results.map((r) => r.all)) / 1000).toFixed(2)} s (runs: ${results.map((r) => (r.all / 1000).toFixed(2)).join(', ')})`,
    );
  }
}
