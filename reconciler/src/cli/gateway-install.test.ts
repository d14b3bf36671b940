import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { packageRoot } from '../package-root.js';
import { cleanEnv } from '../testing/run-cli.js';
import { tempDir } from '../testing/temp-dir.js';
import { waitFor } from '../wait-for.js';

/**
 * The laptop install: the packed package installed globally, then without its optional packages
 * (better-sqlite3, dockerode), as npm leaves it where an optional package cannot be built. `torfleet
 * gateway` from it starts and serves; a command that needs SQLite says which package to install instead
 * of a stack. (`--omit=optional` is ignored by `npm install -g TARBALL`: npm/cli#8284, open; so the test
 * installs with `--ignore-scripts`, building nothing, and removes them itself.)
 */
const run = promisify(execFile);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const dir = tempDir('gateway-install');
const prefix = path.join(dir, 'prefix');
const bin = process.platform === 'win32' ? path.join(prefix, 'torfleet.cmd') : path.join(prefix, 'bin', 'torfleet');
const fleet = path.join(dir, 'fleet.yaml');
const OPTIONAL = ['better-sqlite3', 'dockerode'];
const modulePath = (name: string): string =>
  path.join(prefix, process.platform === 'win32' ? '' : 'lib', 'node_modules', 'torfleet', 'node_modules', name);
const installed = (name: string): boolean => existsSync(modulePath(name));
const LISTEN = '127.0.0.1:30701'; // this file's port block: 30700-30709

before(async () => {
  const { stdout } = await run(npm, ['pack', '--silent', '--pack-destination', dir, packageRoot], {
    shell: process.platform === 'win32',
  });
  const tarball = path.join(dir, stdout.trim().split('\n').pop() ?? '');
  await run(
    npm,
    ['install', '-g', '--prefix', prefix, '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund', tarball],
    { shell: process.platform === 'win32', timeout: 300_000 },
  );
  for (const name of OPTIONAL) rmSync(modulePath(name), { recursive: true, force: true });
  writeFileSync(
    fleet,
    'apiVersion: torfleet/v1\nkind: Fleet\npools: []\ngateway:\n  default: corp\n  upstreams:\n    - {name: corp, url: "http://127.0.0.1:9"}\n',
  );
});

test('the install holds its required packages and no optional one', () => {
  for (const name of OPTIONAL) assert.equal(installed(name), false, name);
  assert.equal(installed('ajv'), true, 'its required dependencies are there');
});

test('torfleet gateway from the install serves its PAC file, and stops on SIGTERM with exit 0', async (t) => {
  const started = Date.now();
  const child = spawn(bin, ['gateway', '--listen', LISTEN], {
    env: cleanEnv({ TORFLEET_FLEET_FILE: fleet }),
    stdio: ['ignore', 'pipe', 'pipe'],
    shell: process.platform === 'win32',
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  after(() => child.kill('SIGKILL'));
  const address = await waitFor('the gateway to listen', () => output.includes('gateway listening') && LISTEN, 20_000);
  t.diagnostic(`listening ${String(Date.now() - started)} ms after the spawn (figures belong to bench/)`);
  const pac = await fetch(`http://${address}/proxy.pac`);
  assert.equal(pac.status, 200);
  assert.match(await pac.text(), new RegExp(`PROXY ${address.replace(/[.[\]]/g, '\\$&')}`));
  if (process.platform === 'win32') return; // no SIGTERM to send on Windows
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  assert.equal(await exited, 0, output);
});

test('a command that needs an optional package names the one to install', async () => {
  const result = await run(bin, ['nodes', 'stats'], {
    env: cleanEnv({ TORFLEET_DB: path.join(dir, 'nodes.db') }),
    shell: process.platform === 'win32',
  }).then(
    () => ({ code: 0, stderr: '' }),
    (error: unknown) => error as { code: number; stderr: string },
  );
  assert.equal(result.code, 1);
  assert.match(result.stderr, /needs the package (better-sqlite3|dockerode),.*npm install \1\n/);
  assert.doesNotMatch(result.stderr, /at .*\.js:\d+/, 'no stack');
});
