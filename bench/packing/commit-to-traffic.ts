/**
 * Commit → traffic through `torfleet run` (issue 14, budget: a new packed proxy carrying traffic < 0.5 s after the
 * commit). A private Tor network with six exits on loopback, `torfleet run` watching a local bare repository
 * (a push is seen at once: the repository is watched for commits). A packed strict NON_US pool (proxiesPerTor 10)
 * is scaled up one proxy at a time; each sample is the time from just before the `git push` to the first complete
 * HTTP answer through the new proxy's SOCKS port (retried every 10 ms), its address checked against the proxy's
 * exit (GET /proxies/NAME). Then the same with an unpacked strict pool (a new tor per proxy: bootstrap included).
 * The breakdown comes from torfleet's JSON log (the pass's start and finish, "change applied"). Ports 27500-27599
 * only; pools test-c2t-*; the process runtime's tors are ended by their recorded pids, containers removed.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import Docker from 'dockerode';
import { removeTestContainers } from '../../reconciler/src/testing/docker-cleanup.js';
import { killRecordedTors } from '../../reconciler/src/testing/recorded-tors.js';
import { networkRunEnv } from '../../reconciler/src/testing/network-run-env.js';
import { TORFLEET_BIN } from '../../reconciler/src/testing/run-cli.js';
import {
  startPrivateTorNetwork,
  type PrivateTorNetwork,
} from '../../reconciler/src/tor-network/private-tor-network.js';
import { waitFor } from '../../reconciler/src/wait-for.js';
import { median } from '../gateway/stats.js';
import { firstAnswer } from './socks-get.js';

const NETWORK_BASE = 27540; // the network uses 27540-27570
const PREFIX = 'test-c2t';

type Runtime = 'process' | 'docker';
type Variant = 'packed' | 'own tor';

interface Sample {
  readonly runtime: Runtime;
  readonly variant: Variant;
  readonly step: string;
  readonly totalMs: number;
  /** Push → the pass that applied the change started (the watch seeing the commit, fetch, queue). */
  readonly detectMs: number | undefined;
  /** The pass's start → "change applied" for the new proxy (plan, port, torrc or SETCONF, records). */
  readonly applyMs: number | undefined;
  /** "change applied" → the first answer (controller: circuit and attach; own tor: its bootstrap). */
  readonly afterApplyMs: number | undefined;
  readonly attempts: number;
}

interface LogLine {
  readonly time: string;
  readonly msg: string;
  readonly proxy?: string;
  readonly durationMs?: number;
  readonly changes?: number;
}

interface ProxyView {
  readonly name: string;
  readonly state: string;
  readonly port: number;
  readonly exit: { readonly addresses: readonly string[] };
  readonly health: { readonly circuit?: { readonly circuitBuilt: boolean } | null } | null;
}

async function oneRuntime(network: PrivateTorNetwork, runtime: Runtime, offset: number): Promise<Sample[]> {
  const docker = new Docker();
  const instance = `${PREFIX}${runtime[0] ?? ''}`;
  const packed = `${instance}-p`;
  const own = `${instance}-own`;
  const packedPort = 27500 + offset + 1;
  const ownPort = 27500 + offset + 10;
  const api = `127.0.0.1:${String(27500 + offset)}`;
  const echoPort = Number(new URL(network.echoUrl).port);
  const dir = mkdtempSync(path.join(os.tmpdir(), `torfleet-bench-c2t-${runtime}-`));
  const work = path.join(dir, 'work');
  const bare = path.join(dir, 'fleet.git');
  const stateDir = path.join(dir, 'state');
  const git = (...args: string[]): void => {
    execFileSync('git', ['-c', 'user.email=b@torfleet.test', '-c', 'user.name=b', ...args], {
      cwd: work,
      stdio: 'ignore',
    });
  };
  const authorities = network.dirAuthorities.map((line) => `    - "${line}"`).join('\n');
  /** Commits a fleet with `packedCount` packed and `ownCount` unpacked strict NON_US proxies (a pool at 0 left out). */
  const commit = (packedCount: number, ownCount: number): void => {
    const pools =
      (packedCount > 0
        ? `  - name: ${packed}\n    geo: NON_US\n    mode: strict\n    count: ${String(packedCount)}\n    basePort: ${String(packedPort)}\n    packing: {proxiesPerTor: 10}\n`
        : '') +
      (ownCount > 0
        ? `  - {name: ${own}, geo: NON_US, mode: strict, count: ${String(ownCount)}, basePort: ${String(ownPort)}}\n`
        : '');
    writeFileSync(
      path.join(work, 'fleet', 'fleet.yaml'),
      `apiVersion: torfleet/v1\nkind: Fleet\ntor:\n  testingNetwork: true\n  geoipFile: ${network.geoipFile}\n  dirAuthorities:\n${authorities}\npools:\n${pools === '' ? '  []\n' : pools}`,
    );
    git('add', 'fleet/fleet.yaml');
    git('commit', '-qm', `fleet ${String(packedCount)}/${String(ownCount)}`);
  };
  const push = (): void => {
    git('push', '-q', 'origin', 'HEAD:main');
  };
  const logLines: LogLine[] = [];
  let pending = '';
  let service: ChildProcess | undefined;
  const views = async (): Promise<Map<string, ProxyView>> => {
    try {
      const answer = (await (await fetch(`http://${api}/proxies`)).json()) as { proxies: ProxyView[] };
      return new Map(answer.proxies.map((p) => [p.name, p]));
    } catch {
      return new Map();
    }
  };
  const serving = (pool: string, count: number, isPacked: boolean) => async (): Promise<boolean> => {
    const members = [...(await views()).values()].filter((v) => v.name.startsWith(`${pool}-`));
    return (
      members.length === count &&
      members.every((v) => v.state === 'running' && (!isPacked || v.health?.circuit?.circuitBuilt === true))
    );
  };
  const samples: Sample[] = [];
  /** Pushes the committed fleet; times the first answer through `name`, checked against its exit. */
  const sample = async (variant: Variant, step: string, name: string, port: number): Promise<void> => {
    const wallBefore = Date.now();
    const before = performance.now();
    push();
    const answer = await firstAnswer(port, echoPort, before, 120_000, 10);
    const view = (await (await fetch(`http://${api}/proxies/${name}`)).json()) as ProxyView;
    if (answer.ip !== view.exit.addresses[0]) {
      throw new Error(`${name} answered from ${answer.ip}, its exit is ${view.exit.addresses.join(',')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 300)); // the pass's log lines
    const since = logLines.filter((line) => Date.parse(line.time) >= wallBefore);
    const applied = since.find((line) => line.msg === 'change applied' && line.proxy === name);
    const pass = since.find(
      (line) => line.msg === 'pass finished' && (line.changes ?? 0) > 0 && applied && line.time >= applied.time,
    );
    const passStart = pass ? Date.parse(pass.time) - (pass.durationMs ?? 0) : undefined;
    const appliedAt = applied ? Date.parse(applied.time) : undefined;
    const answeredAt = wallBefore + answer.ms;
    samples.push({
      runtime,
      variant,
      step,
      totalMs: answer.ms,
      detectMs: passStart === undefined ? undefined : passStart - wallBefore,
      applyMs: passStart === undefined || appliedAt === undefined ? undefined : appliedAt - passStart,
      afterApplyMs: appliedAt === undefined ? undefined : answeredAt - appliedAt,
      attempts: answer.attempts,
    });
    console.error(
      `  ${runtime} ${variant} ${step}: ${answer.ms.toFixed(0)} ms (${String(answer.attempts)} tries, last error: ${answer.lastError || 'none'})`,
    );
    if (variant === 'packed' && answer.ms > 500) {
      // An outlier: what torfleet logged meanwhile, for the post-mortem.
      for (const line of since) console.error(`    ${JSON.stringify(line)}`);
    }
  };

  try {
    await removeTestContainers(docker, instance);
    execFileSync('git', ['init', '-q', '--bare', '-b', 'main', bare]);
    execFileSync('git', ['clone', '-q', bare, work], { stdio: 'ignore' });
    mkdirSync(path.join(work, 'fleet'));
    commit(1, 0);
    push();
    service = spawn(process.execPath, [TORFLEET_BIN, 'run'], {
      env: networkRunEnv(
        network,
        { instance, runtime, repo: bare, db: path.join(dir, 'nodes.db'), stateDir, api },
        { TORFLEET_RESYNC_INTERVAL: '60s', TORFLEET_PROBE_INTERVAL: '5s' },
      ),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const onData = (chunk: Buffer): void => {
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        try {
          logLines.push(JSON.parse(line) as LogLine);
        } catch {
          // not a log line
        }
      }
    };
    service.stdout?.on('data', onData);
    service.stderr?.on('data', onData);

    // Packed: count 1 serving, then 1 → 2 → 3 → 4, down to 1 and up to 2 again.
    await waitFor('the first packed proxy serving', serving(packed, 1, true), 180_000);
    await firstAnswer(packedPort, echoPort, performance.now(), 60_000, 50);
    const packedSteps: [number, number][] = [
      [1, 2],
      [2, 3],
      [3, 4],
      [1, 2],
    ];
    for (const [from, to] of packedSteps) {
      const current = [...(await views()).values()].filter((v) => v.name.startsWith(`${packed}-`)).length;
      if (current !== from) {
        commit(from, 0);
        push();
        await waitFor(`${packed} back at ${String(from)}`, serving(packed, from, true), 120_000);
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
      commit(to, 0);
      await sample('packed', `${String(from)}→${String(to)}`, `${packed}-${String(to - 1)}`, packedPort + to - 1);
      await waitFor(`${packed} at ${String(to)}`, serving(packed, to, true), 60_000);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }

    // A tor per proxy: the packed pool removed, an unpacked pool at 1, then 1 → 2 → 3 → 4.
    commit(0, 1);
    push();
    await waitFor(`${own} at 1`, serving(own, 1, false), 180_000);
    await firstAnswer(ownPort, echoPort, performance.now(), 120_000, 50);
    for (const to of [2, 3, 4]) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      commit(0, to);
      await sample('own tor', `${String(to - 1)}→${String(to)}`, `${own}-${String(to - 1)}`, ownPort + to - 1);
      await waitFor(`${own} at ${String(to)}`, serving(own, to, false), 120_000);
    }
    return samples;
  } finally {
    if (service && service.exitCode === null && service.signalCode === null) {
      const exited = new Promise((resolve) => service?.once('exit', resolve));
      service.kill('SIGTERM');
      await exited;
    }
    await removeTestContainers(docker, instance);
    killRecordedTors(stateDir);
    rmSync(dir, { recursive: true, force: true });
  }
}

function dockerReady(): boolean {
  try {
    execFileSync('docker', ['image', 'inspect', 'torfleet/tor:0.4.9'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const ms = (value: number | undefined): string => (value === undefined ? '–' : value.toFixed(0));
const p50 = (values: readonly (number | undefined)[]): number | undefined => {
  const known = values.filter((v): v is number => v !== undefined);
  return known.length > 0 ? median(known) : undefined;
};

/** Prints the Markdown table: per runtime and variant, p50 / max of commit → first answer and the breakdown. */
export async function benchCommitToTraffic(runtimes: readonly Runtime[] = ['process', 'docker']): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'torfleet-bench-c2t-net-'));
  const network = await startPrivateTorNetwork(path.join(dir, 'tor'), NETWORK_BASE, { extraExits: 4 });
  const samples: Sample[] = [];
  try {
    for (const runtime of runtimes) {
      if (runtime === 'docker' && !dockerReady()) {
        console.error('  docker: torfleet/tor:0.4.9 missing (make image), skipped');
        continue;
      }
      samples.push(...(await oneRuntime(network, runtime, runtime === 'process' ? 0 : 20)));
    }
  } finally {
    await network.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log('\n## Commit → traffic through `torfleet run` (issue 14; budget for packed: < 500 ms)\n');
  console.log(
    '| runtime | new proxy | samples | commit → first answer p50 / max (ms) | push → pass start p50 | pass start → change applied p50 | change applied → first answer p50 |',
  );
  console.log('|---|---|---|---|---|---|---|');
  for (const runtime of ['process', 'docker'] as const) {
    for (const variant of ['packed', 'own tor'] as const) {
      const group = samples.filter((s) => s.runtime === runtime && s.variant === variant);
      if (group.length === 0) continue;
      const totals = group.map((s) => s.totalMs);
      console.log(
        `| ${runtime} | ${variant === 'packed' ? 'packed (shared tor, proxiesPerTor 10)' : 'own tor (bootstrap)'} | ${String(group.length)} | ${ms(p50(totals))} / ${ms(Math.max(...totals))} | ${ms(p50(group.map((s) => s.detectMs)))} | ${ms(p50(group.map((s) => s.applyMs)))} | ${ms(p50(group.map((s) => s.afterApplyMs)))} |`,
      );
    }
  }
  console.log(
    '\n| runtime | new proxy | step | total | push → pass start | → change applied | → first answer | tries |',
  );
  console.log('|---|---|---|---|---|---|---|---|');
  for (const s of samples) {
    console.log(
      `| ${s.runtime} | ${s.variant} | ${s.step} | ${ms(s.totalMs)} | ${ms(s.detectMs)} | ${ms(s.applyMs)} | ${ms(s.afterApplyMs)} | ${String(s.attempts)} |`,
    );
  }
}
