import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { stopProcess, torsUsing } from '../runtime/tor-processes.js';
import { cleanEnv, runTorfleet, TORFLEET_BIN } from '../testing/run-cli.js';
import { sharedConsensusFile, sharedGeoIpFile } from '../testing/shared-data.js';
import { tempDir } from '../testing/temp-dir.js';
import { waitFor } from '../wait-for.js';

/**
 * Issue 9 item 1: `torfleet run` as a supervisor over its runnables, with the process runtime and real tor
 * (DisableNetwork 1). The runnables show in /metrics; a tor killed behind torfleet's back is an event of
 * the process runtime (not of Docker) and brings it back; SIGTERM stops them in reverse; an API address
 * that is taken ends `run` at start-up with one line and exit 1.
 */
const PORT = 20100; // this file's ports: 20100-20149 (block 20000-20499)
const API = `127.0.0.1:${String(PORT)}`;
// Registered before tempDir's removal of the state directory, so the tors are found by their torrc first.
after(async () => {
  service?.kill('SIGKILL');
  for (const pid of torsUsing(path.join(stateDir, 'proxies', `${POOL}-0`, 'torrc'))) await stopProcess(pid);
});
const dir = tempDir('test-rn-run');
const stateDir = path.join(dir, 'state');
const fleetFile = path.join(dir, 'fleet.yaml');
const POOL = 'test-rn-run';
const settings = {
  TORFLEET_INSTANCE: `test-rn${process.pid.toString(36)}`,
  TORFLEET_FLEET_FILE: fleetFile,
  TORFLEET_RUNTIME: 'process',
  TORFLEET_DB: path.join(dir, 'nodes.db'),
  TORFLEET_STATE_DIR: stateDir,
  TORFLEET_NODE_SOURCE: 'consensus',
  TORFLEET_CONSENSUS_URL: sharedConsensusFile,
  TORFLEET_GEOIP_FILE: sharedGeoIpFile,
  TORFLEET_NODES_MAX_AGE: '3650d',
  TORFLEET_RESYNC_INTERVAL: '10m',
  TORFLEET_LISTEN: API,
};
const RUNNABLES = [
  'api',
  'node-refresh',
  'packing', // the process runtime runs shared tors: their controllers
  'controller',
  'resync',
  'egress-probe',
  'health-monitor',
  'fleet-watch',
  'runtime-watch',
  'gateway',
];

interface LogLine {
  msg: string;
  [field: string]: unknown;
}
let service: ChildProcess | undefined;
const logs: LogLine[] = [];

const pidOf = (proxy: string): number | null =>
  (JSON.parse(readFileSync(path.join(stateDir, 'proxies', proxy, 'process.json'), 'utf8')) as { pid: number | null })
    .pid;

describe('torfleet run: runnables', { concurrency: false, timeout: 120_000 }, () => {
  test('an API address that is taken: one line, exit 1, nothing started', async () => {
    writeFileSync(fleetFile, 'apiVersion: torfleet/v1\nkind: Fleet\ntor:\n  disableNetwork: true\npools: []\n');
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(PORT + 1, '127.0.0.1', resolve));
    try {
      const result = await runTorfleet(['run'], { ...settings, TORFLEET_LISTEN: `127.0.0.1:${String(PORT + 1)}` });
      assert.equal(result.code, 1);
      const lines = result.stderr.trim().split('\n');
      assert.match(
        lines.at(-1) ?? '',
        new RegExp(
          `^torfleet: cannot listen on 127\\.0\\.0\\.1:${String(PORT + 1)} \\(TORFLEET_LISTEN\\): .*EADDRINUSE`,
        ),
      );
      assert.ok(!result.stderr.includes('"msg":"pass finished"'), result.stderr);
      assert.doesNotMatch(result.stderr, /\n\s+at .+:\d+:\d+\)?\n/, 'no stack trace');
    } finally {
      squatter.close();
    }
  });

  test('the runnables are in /metrics; a killed tor is a process event that brings it back', async () => {
    writeFileSync(
      fleetFile,
      `apiVersion: torfleet/v1\nkind: Fleet\ntor:\n  disableNetwork: true\npools:\n  - {name: ${POOL}, geo: US, mode: strict, count: 1, basePort: ${String(PORT + 10)}}\n`,
    );
    service = spawn(process.execPath, [TORFLEET_BIN, 'run'], {
      env: cleanEnv(settings),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let buffered = '';
    service.stderr?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) logs.push(JSON.parse(line) as LogLine);
    });
    await waitFor(
      'a converged pass',
      () => logs.some((l) => l.msg === 'pass finished' && l.outcome === 'converged'),
      60_000,
    );
    // The last runnables may still be starting when the first pass ends.
    const metrics = await waitFor('every runnable up', async () => {
      const text = await (await fetch(`http://${API}/metrics`)).text();
      return RUNNABLES.every((name) => text.includes(`torfleet_runnable_up{runnable="${name}"} 1`)) && text;
    });
    for (const name of RUNNABLES) {
      assert.match(metrics, new RegExp(`^torfleet_runnable_up\\{runnable="${name}"\\} 1$`, 'm'), name);
      assert.match(metrics, new RegExp(`^torfleet_runnable_restarts_total\\{runnable="${name}"\\} 0$`, 'm'), name);
    }
    const proxy = `${POOL}-0`;
    const before = pidOf(proxy);
    assert.ok(before !== null);
    process.kill(before, 'SIGKILL');
    const pass = await waitFor(
      'the pass the exit triggers',
      () => logs.find((l) => l.msg === 'pass finished' && l.trigger === `process exited ${proxy}`),
      30_000,
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}; logs:\n${logs.map((l) => JSON.stringify(l)).join('\n')}`);
    });
    assert.equal(pass.outcome, 'converged');
    assert.notEqual(pidOf(proxy), before);
    // Under the process runtime the Docker engine is not watched.
    assert.ok(!logs.some((l) => String(l.trigger).startsWith('docker') || l.msg.startsWith('docker')));
  });

  test('SIGTERM stops the runnables in reverse and exits 0; the proxy keeps running', async () => {
    const exited = new Promise<number | null>((resolve) => service?.on('exit', resolve));
    service?.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.deepEqual(
      logs.filter((l) => l.msg === 'runnable stopped').map((l) => l.runnable),
      [...RUNNABLES].reverse(),
    );
    const pid = pidOf(`${POOL}-0`);
    assert.ok(pid !== null && readFileSync(`/proc/${String(pid)}/cmdline`, 'utf8').includes('torrc'));
  });
});
