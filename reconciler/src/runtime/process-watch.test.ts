import assert from 'node:assert/strict';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import type { ProxySpec } from '../plan/plan-types.js';
import { TEST_TOR } from '../testing/fleet-fixtures.js';
import { tempDir } from '../testing/temp-dir.js';
import { waitFor } from '../wait-for.js';
import { ProcessRuntime } from './process-runtime.js';
import type { RuntimeEvent } from './proxy-runtime.js';
import { torsUsing } from './tor-processes.js';

/**
 * The process runtime reports its own events: a real tor (DisableNetwork 1) started by the runtime and
 * killed -9 behind its back is reported as `exited` (once), within a couple of looks.
 */
const stateDir = path.join(tempDir('test-rn-proc'), 'state');
const PORT = 20010; // this file's ports: 20010-20019 (block 20000-20499)
const NAME = 'test-rn-watch-0';
const spec = {
  name: NAME,
  pool: 'test-rn-watch',
  specHash: 'a1',
  exits: { fingerprints: [] },
  tor: TEST_TOR,
} as unknown as ProxySpec;

describe('process runtime: watch', { timeout: 60_000 }, () => {
  const runtime = new ProcessRuntime({ stateDir, instance: 'test-rn', watchIntervalMs: 200 });
  after(async () => {
    const [proxy] = await runtime.list();
    if (proxy) await runtime.remove(proxy, { forget: true });
  });

  test('a tor process killed -9 is reported as exited; one left running is not', async () => {
    const paths = runtime.torrcPaths(spec);
    const torrc = [
      'DisableNetwork 1',
      `SocksPort 127.0.0.1:${String(PORT)}`,
      `DataDirectory ${paths.dataDirectory}`,
      'Log notice stdout',
      '',
    ].join('\n');
    await runtime.create(spec, torrc, 'r1');
    const torrcFile = path.join(stateDir, 'proxies', NAME, 'torrc');
    const [pid] = await waitFor('tor to run', () => {
      const pids = torsUsing(torrcFile);
      return pids.length > 0 ? pids : undefined;
    });
    const events: RuntimeEvent[] = [];
    const stop = runtime.watch((event) => events.push(event));
    try {
      // Two looks (200 ms apart) while it runs: nothing to report.
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.deepEqual(events, []);
      process.kill(pid ?? 0, 'SIGKILL');
      await waitFor('the exit to be reported', () => events.length > 0, 10_000);
      assert.deepEqual(events, [{ action: 'exited', proxy: NAME }]);
      // Reported once per recorded pid, not at every look.
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.deepEqual(events, [{ action: 'exited', proxy: NAME }]);
    } finally {
      stop();
    }
  });
});
