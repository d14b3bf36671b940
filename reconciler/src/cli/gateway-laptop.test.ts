import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { cleanEnv, TORFLEET_BIN } from '../testing/run-cli.js';
import { tempDir } from '../testing/temp-dir.js';
import { waitFor } from '../wait-for.js';

/**
 * The laptop path: the built `torfleet gateway`, watched by a preload that records every module resolved
 * and every /proc path asked of fs, serves its PAC file and stops on SIGTERM having loaded neither
 * better-sqlite3 nor dockerode (nor anything that pulls them in) and read nothing under /proc.
 */
const PORT = 30920; // this file's port: 30920
const spy = fileURLToPath(new URL('../testing/load-spy.js', import.meta.url));
const dir = tempDir('test-adv-laptop');

test('torfleet gateway loads no SQLite, no Docker client, and reads no /proc', async () => {
  const fleetFile = path.join(dir, 'fleet.yaml');
  const record = path.join(dir, 'loads.txt');
  writeFileSync(record, '');
  writeFileSync(
    fleetFile,
    `apiVersion: torfleet/v1\nkind: Fleet\npools: []\ngateway:\n  listen: 127.0.0.1:${String(PORT)}\n  default: up\n  upstreams:\n    - {name: up, url: "socks5://127.0.0.1:9"}\n`,
  );
  const child = spawn(process.execPath, ['--import', spy, TORFLEET_BIN, 'gateway'], {
    env: cleanEnv({ TORFLEET_FLEET_FILE: fleetFile, TORFLEET_LOAD_SPY_FILE: record }),
    stdio: 'ignore',
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  try {
    const pac = await waitFor('the PAC file', () =>
      fetch(`http://127.0.0.1:${String(PORT)}/proxy.pac`).then(
        (response) => response.status === 200 || undefined,
        () => undefined,
      ),
    );
    assert.equal(pac, true);
  } finally {
    child.kill('SIGTERM');
  }
  const code = await exited;
  if (process.platform !== 'win32') assert.equal(code, 0); // Windows has no SIGTERM to send: kill() ends it
  const lines = readFileSync(record, 'utf8').split('\n').filter(Boolean);
  assert.ok(
    lines.some((line) => line.includes('gateway-command.js')),
    'the spy saw the gateway command load',
  );
  const unwanted = lines.filter((line) => /better-sqlite3|dockerode|docker-modem|node-store|proc /.test(line));
  assert.deepEqual(unwanted, []);
});
