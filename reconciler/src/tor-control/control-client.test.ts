import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { tempDir } from '../testing/temp-dir.js';
import { waitFor } from '../wait-for.js';
import { torHealth } from './control-client.js';

/** A real tor (DisableNetwork 1) with a ControlSocket and cookie in its data directory, as every proxy has. */
describe('torHealth through a real tor ControlSocket', () => {
  const dir = tempDir('control');
  const data = path.join(dir, 'data');
  let tor: ChildProcess;
  before(async () => {
    mkdirSync(data, { mode: 0o700 });
    writeFileSync(
      path.join(dir, 'torrc'),
      `SocksPort 0\nDataDirectory ${data}\nControlSocket ${data}/control\nCookieAuthentication 1\nDisableNetwork 1\nGeoIPFile ""\nGeoIPv6File ""\n`,
    );
    tor = spawn('tor', ['-f', path.join(dir, 'torrc'), '--defaults-torrc', '/dev/null'], { stdio: 'ignore' });
    // tor creates the socket and then writes the cookie: wait for both.
    await waitFor(
      'the control socket and cookie',
      () => existsSync(path.join(data, 'control')) && existsSync(path.join(data, 'control_auth_cookie')),
    );
  });
  after(() => {
    tor.kill('SIGKILL');
  });

  test('reports bootstrap progress, circuits and the network state', async () => {
    const health = await torHealth(data);
    assert.equal(health.bootstrapProgress, 0);
    assert.equal(health.bootstrapSummary, 'Starting');
    assert.equal(health.circuitEstablished, false);
    assert.equal(health.networkEnabled, false);
  });

  test("a wrong cookie is refused with tor's own answer", async () => {
    const fake = path.join(dir, 'fake');
    mkdirSync(fake);
    writeFileSync(path.join(fake, 'control_auth_cookie'), Buffer.alloc(32));
    const { symlinkSync } = await import('node:fs');
    symlinkSync(path.join(data, 'control'), path.join(fake, 'control'));
    await assert.rejects(torHealth(fake), /refused: 515 Authentication failed/);
  });

  test('no tor at all: a readable error, quickly', async () => {
    await assert.rejects(
      torHealth(path.join(dir, 'nowhere')),
      /no control cookie in .*nowhere yet \(tor not started\?\)/,
    );
  });
});
