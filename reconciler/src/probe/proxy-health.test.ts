import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ObservedProxy } from '../plan/plan-types.js';
import { tempDir } from '../testing/temp-dir.js';
import { waitFor } from '../wait-for.js';
import { torHealth } from '../tor-control/control-client.js';
import { HealthChecker } from './proxy-health.js';

const observed = (name: string, state: ObservedProxy['state'] = 'running'): ObservedProxy => ({
  name,
  pool: 'hl',
  id: `id-${name}`,
  state,
  specHash: '0123456789abcdef0123',
  exitFingerprints: [],
  revision: 'r',
  startedAt: null,
});

/** HealthChecker over real ControlSockets: one real tor (DisableNetwork 1), one proxy whose tor is not there. */
describe('HealthChecker', () => {
  const dir = tempDir('hl-health');
  const dataOf = (proxy: string): string => path.join(dir, proxy);
  let tor: ChildProcess;
  before(async () => {
    const data = dataOf('hl-0');
    mkdirSync(data, { mode: 0o700 });
    writeFileSync(
      path.join(dir, 'torrc'),
      `SocksPort 0\nDataDirectory ${data}\nControlSocket ${data}/control\nCookieAuthentication 1\nDisableNetwork 1\nGeoIPFile ""\nGeoIPv6File ""\n`,
    );
    tor = spawn('tor', ['-f', path.join(dir, 'torrc'), '--defaults-torrc', '/dev/null'], { stdio: 'ignore' });
    await waitFor(
      'the control socket and cookie',
      () => existsSync(path.join(data, 'control')) && existsSync(path.join(data, 'control_auth_cookie')),
    );
  });
  after(() => {
    tor.kill('SIGKILL');
  });

  test('a tor that answers, a tor that does not (a result, not an error), and a proxy not running', async () => {
    const at = new Date('2026-12-01T00:00:00.000Z');
    const checker = new HealthChecker({ read: (proxy) => torHealth(dataOf(proxy), 1000), now: () => at });
    const seen = await checker.check([observed('hl-0'), observed('hl-1'), observed('hl-2', 'stopped')]);
    assert.deepEqual([...seen.keys()].sort(), ['hl-0', 'hl-1']);
    assert.deepEqual(checker.health('hl-0'), {
      bootstrap: 0,
      circuitEstablished: false,
      checkedAt: at.toISOString(),
      tag: 'starting',
      summary: 'Starting',
      problem: null,
      networkLive: false,
      error: null,
    });
    const silent = checker.health('hl-1');
    assert.ok(silent);
    assert.equal(silent.bootstrap, null);
    assert.match(String(silent.error), /no control cookie in .*hl-1 yet \(tor not started\?\)/);
    assert.equal(checker.health('hl-2'), null, 'a proxy not running is not checked');
    assert.equal(checker.health('hl-0', 'id-hl-0')?.bootstrap, 0);
    assert.equal(checker.health('hl-0', 'another'), null, "a new instance never shows its predecessor's health");
    await checker.check([observed('hl-1')]);
    assert.equal(checker.health('hl-0'), null, 'a proxy no longer running is forgotten');
  });

  test('a proxy on another swarm node is not read here (its ControlSocket is there): says so', async () => {
    const read: string[] = [];
    const checker = new HealthChecker({ read: (proxy) => (read.push(proxy), torHealth(dataOf(proxy), 1000)) });
    // hl-0's data directory here holds a live tor: a task elsewhere must never be judged by it.
    await checker.check([{ ...observed('hl-0'), node: 'eu-2', nodeAddress: '10.0.0.6' }]);
    assert.deepEqual(read, []);
    const health = checker.health('hl-0');
    assert.ok(health);
    assert.equal(health.bootstrap, null);
    assert.match(String(health.error), /runs on swarm node eu-2 \(10\.0\.0\.6\): its tor's ControlSocket/);
  });
});
