import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sharedConsensusFile, sharedGeoIpFile } from '../testing/shared-data.js';
import { runTorfleet, type CliResult } from '../testing/run-cli.js';
import { tempDir } from '../testing/temp-dir.js';
import { waitFor } from '../wait-for.js';

/** TORFLEET_RUNTIME=process: real tor processes (DisableNetwork 1), started and adopted by the built CLI. */
const dir = tempDir('process');
const stateDir = path.join(dir, 'state');
const fleetFile = path.join(dir, 'fleet.yaml');
// Each test file has its own fixed port block, below the ephemeral range (32768+) so no outgoing connection can
// hold one: 21000 e2e, 22000 dashboards, 23000 run, 24000 process, 25000 docker. The demo uses 28500 and
// 18080/19050-19090, the benchmarks 26000-27999.
const PORT = 24000;
const ENV = {
  TORFLEET_RUNTIME: 'process',
  TORFLEET_INSTANCE: 'test-process',
  TORFLEET_DB: path.join(dir, 'nodes.db'),
  TORFLEET_STATE_DIR: stateDir,
  TORFLEET_FLEET_FILE: fleetFile,
  TORFLEET_NODE_SOURCE: 'consensus',
  TORFLEET_CONSENSUS_URL: sharedConsensusFile,
  TORFLEET_GEOIP_FILE: sharedGeoIpFile,
};

function writeFleet(pools: string): void {
  writeFileSync(fleetFile, `apiVersion: torfleet/v1\nkind: Fleet\ntor:\n  disableNetwork: true\npools:\n${pools}`);
}
const US = (count: number): string =>
  `  - {name: test-proc, geo: US, mode: strict, count: ${count}, basePort: ${PORT}}\n`;
const EU = `  - {name: test-proc-eu, geo: [DE], mode: rotating, count: 1, basePort: ${PORT + 5}}\n`;

function torfleet(...args: string[]): Promise<CliResult> {
  return runTorfleet(args, ENV);
}

/** Proxy name → pid, from the records the runtime keeps. */
function pids(): Map<string, number> {
  const root = path.join(stateDir, 'proxies');
  const found = new Map<string, number>();
  if (!existsSync(root)) return found;
  for (const name of readdirSync(root)) {
    const record = path.join(root, name, 'process.json');
    if (existsSync(record)) found.set(name, (JSON.parse(readFileSync(record, 'utf8')) as { pid: number }).pid);
  }
  return found;
}

const alive = (pid: number): boolean => {
  try {
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z');
  } catch {
    return false;
  }
};

const listening = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => {
      resolve(false);
    });
  });

describe('process runtime (tor processes, no Docker)', { concurrency: false }, () => {
  before(async () => {
    assert.equal((await torfleet('nodes', 'refresh')).code, 0);
  });
  after(() => {
    for (const pid of pids().values()) if (alive(pid)) process.kill(pid, 'SIGKILL');
  });

  test('apply starts one detached tor per proxy, each with its own data directory and control socket', async () => {
    writeFleet(US(2) + EU);
    const applied = await torfleet('apply');
    assert.equal(applied.code, 0, applied.stderr);
    const started = pids();
    assert.deepEqual([...started.keys()].sort(), ['test-proc-0', 'test-proc-1', 'test-proc-eu-0']);
    assert.ok([...started.values()].every(alive));
    // DisableNetwork 1 keeps tor from opening its SocksPort (it listens only for controllers): the control
    // socket in the proxy's data directory shows tor is up and read this torrc.
    for (const name of started.keys()) {
      await waitFor(`${name}'s control socket`, () =>
        existsSync(path.join(stateDir, 'proxies', name, 'data', 'control')),
      );
    }
    assert.equal(await listening(PORT), false, 'DisableNetwork 1: no SOCKS listener');
    const torrc = readFileSync(path.join(stateDir, 'proxies', 'test-proc-0', 'torrc'), 'utf8');
    assert.ok(torrc.includes(`DataDirectory ${path.join(stateDir, 'proxies', 'test-proc-0', 'data')}`));
  });

  test('a restarted reconciler adopts the running processes: nothing changes', async () => {
    const before = pids();
    const plan = await torfleet('plan');
    assert.equal(plan.code, 0, plan.stdout);
    assert.equal((await torfleet('apply')).code, 0);
    assert.deepEqual(pids(), before);
  });

  test('a killed tor is replaced (container_dead)', async () => {
    const victim = pids().get('test-proc-1') ?? 0;
    process.kill(victim, 'SIGKILL');
    await waitFor('the tor to die', () => !alive(victim));
    const plan = await torfleet('plan');
    assert.match(plan.stdout, /~ test-proc-1 replace: container_dead/);
    assert.equal((await torfleet('apply')).code, 0);
    const now = pids().get('test-proc-1') ?? 0;
    assert.notEqual(now, victim);
    assert.ok(alive(now));
  });

  test('a removed pool: its tor is stopped and its directory deleted; the others keep running', async () => {
    const before = pids();
    writeFleet(US(2));
    assert.equal((await torfleet('apply')).code, 0);
    assert.ok(!alive(before.get('test-proc-eu-0') ?? 0));
    assert.ok(!existsSync(path.join(stateDir, 'proxies', 'test-proc-eu-0')));
    assert.equal(pids().get('test-proc-0'), before.get('test-proc-0'));
  });
});
