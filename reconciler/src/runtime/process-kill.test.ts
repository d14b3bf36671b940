import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sharedConsensusFile, sharedGeoIpFile } from '../testing/shared-data.js';
import { cleanEnv, runTorfleet, TORFLEET_BIN } from '../testing/run-cli.js';
import { tempDir } from '../testing/temp-dir.js';
import { waitFor } from '../wait-for.js';

/**
 * Issue 8 item 2: `torfleet apply` with the process runtime killed -9 at random moments while it creates and
 * replaces tors, again and again; one more apply must then leave exactly one tor per proxy, each the one its
 * record names (none unmanaged, no second tor waiting on a data directory lock). Real tor, DisableNetwork 1.
 */
const dir = tempDir('rtkill');
const stateDir = path.join(dir, 'state');
const fleetFile = path.join(dir, 'fleet.yaml');
const PORT = 29500; // this file's port block: 29500-29599 (DisableNetwork 1: tor opens no SocksPort anyway)
const COUNT = 10;
const KILLS = 8;
const ENV = {
  TORFLEET_RUNTIME: 'process',
  TORFLEET_INSTANCE: 'test-rtkill',
  TORFLEET_DB: path.join(dir, 'nodes.db'),
  TORFLEET_STATE_DIR: stateDir,
  TORFLEET_FLEET_FILE: fleetFile,
  TORFLEET_NODE_SOURCE: 'consensus',
  TORFLEET_CONSENSUS_URL: sharedConsensusFile,
  TORFLEET_GEOIP_FILE: sharedGeoIpFile,
};
const NAMES = Array.from({ length: COUNT }, (_, i) => `test-kill-${i}`);

/** A spec change (the bind address) so that every pass replaces every proxy: each kill lands among creates. */
function writeFleet(bind: string): void {
  writeFileSync(
    fleetFile,
    `apiVersion: torfleet/v1\nkind: Fleet\ntor:\n  disableNetwork: true\npools:\n` +
      `  - {name: test-kill, geo: US, mode: strict, count: ${COUNT}, basePort: ${PORT}, bind: ${bind}}\n`,
  );
}

/** Every live (not zombie) process whose arguments name a torrc under this test's state dir: pid → proxy. */
function torsOfThisTest(): Map<number, string> {
  const found = new Map<number, string>();
  const prefix = path.join(stateDir, 'proxies') + path.sep;
  for (const entry of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      const torrc = argv.find((arg) => arg.startsWith(prefix) && arg.endsWith(`${path.sep}torrc`));
      const state = readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]?.[0];
      if (torrc && state !== 'Z') found.set(Number(entry), path.basename(path.dirname(torrc)));
    } catch {
      // the process ended while we looked
    }
  }
  return found;
}

function recordedPid(name: string): number | undefined {
  const file = path.join(stateDir, 'proxies', name, 'process.json');
  if (!existsSync(file)) return undefined;
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { pid?: number }).pid;
  } catch {
    return undefined;
  }
}

/** Pids of the live children of `parent` whose arguments name a proxy's torrc (tors it started). */
function torChildrenOf(parent: number): number[] {
  const children: number[] = [];
  for (const [pid] of torsOfThisTest()) {
    try {
      const ppid = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[1]);
      if (ppid === parent) children.push(pid);
    } catch {
      // gone
    }
  }
  return children;
}

/**
 * Runs `torfleet apply` and kills it -9: after `` milliseconds, or (`` undefined) the moment it has
 * spawned a tor: the step between starting a tor and its record, where the orphans came from.
 */
async function applyKilled(ms: number | undefined): Promise<string> {
  const child = spawn(process.execPath, [TORFLEET_BIN, 'apply'], { env: cleanEnv(ENV), stdio: 'ignore' });
  const exited = (): boolean => child.exitCode !== null || child.signalCode !== null;
  const exit = new Promise((resolve) => child.once('exit', resolve));
  if (ms !== undefined) {
    await new Promise((resolve) => setTimeout(resolve, ms));
  } else {
    while (!exited() && torChildrenOf(child.pid ?? 0).length === 0) await new Promise((r) => setImmediate(r));
  }
  const moment = exited() ? 'after it ended' : ms === undefined ? 'as a tor started' : `after ${String(ms)} ms`;
  if (!exited()) {
    child.kill('SIGKILL');
    await exit;
  }
  return moment;
}

describe('process runtime: kill -9 during creates', { concurrency: false }, () => {
  before(async () => {
    assert.equal((await runTorfleet(['nodes', 'refresh'], ENV)).code, 0);
  });
  after(() => {
    for (const pid of torsOfThisTest().keys()) process.kill(pid, 'SIGKILL');
  });

  test(`${KILLS} kills at random moments, then one apply: exactly one managed tor per proxy`, async () => {
    writeFleet('127.0.0.1');
    const first = await runTorfleet(['apply'], ENV);
    assert.equal(first.code, 0, first.stderr);
    const delays: string[] = [];
    for (let i = 0; i < KILLS; i++) {
      writeFleet(i % 2 === 0 ? '127.0.0.2' : '127.0.0.1');
      // A pass of 10 replacements takes a second or two here: kill somewhere inside it, or right as a tor starts.
      const delay = i % 2 === 0 ? undefined : 250 + Math.floor(Math.random() * 1500);
      delays.push(await applyKilled(delay));
    }
    const last = await runTorfleet(['apply'], ENV);
    assert.equal(last.code, 0, `kills ${delays.join(', ')}; ${last.stderr}`);
    // Every recorded tor reaches its control socket (it holds its data directory lock): none is waiting on it.
    for (const name of NAMES) {
      await waitFor(`${name}'s tor to open its control socket`, () =>
        existsSync(path.join(stateDir, 'proxies', name, 'data', 'control')),
      );
    }
    const tors = torsOfThisTest();
    const perProxy = NAMES.map((name) => [...tors].filter(([, proxy]) => proxy === name).map(([pid]) => pid));
    assert.deepEqual(
      perProxy.map((pids) => pids.length),
      NAMES.map(() => 1),
      `one tor per proxy (kills ${delays.join(', ')}): ${JSON.stringify(Object.fromEntries(NAMES.map((n, i) => [n, perProxy[i]])))}`,
    );
    assert.deepEqual(
      NAMES.map((name) => recordedPid(name)),
      perProxy.map((pids) => pids[0]),
      `each running tor is the one its record names, none unmanaged (kills ${delays.join(', ')})`,
    );
    assert.equal((await runTorfleet(['plan'], ENV)).code, 0, 'converged: the next plan has no changes');
  });
});
