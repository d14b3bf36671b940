import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { Agent, get } from 'node:http';
import path from 'node:path';
import { test } from 'node:test';
import { cleanEnv, TORFLEET_BIN } from '../testing/run-cli.js';
import { tempDir } from '../testing/temp-dir.js';
import { waitFor } from '../wait-for.js';
import { mayHoldCompiler } from './startup-compiler.js';

const CASES: readonly [string, readonly string[], string | undefined, boolean][] = [
  ['nothing given: held until the first connection', [], undefined, true],
  ['other flags only', ['--enable-source-maps', '--trace-opt'], '--max-old-space-size=200 --trace-deopt', true],
  ['--no-opt on the command line wins', ['--no-opt'], undefined, false],
  ['--turbofan on the command line wins', ['--turbofan'], undefined, false],
  ['--jitless in NODE_OPTIONS wins', [], '--inspect --jitless', false],
  ['--no-sparkplug in NODE_OPTIONS wins', [], '--no-sparkplug', false],
  ['--maglev in NODE_OPTIONS wins', [], '--maglev', false],
];

for (const [name, execArgv, nodeOptions, expected] of CASES) {
  test(`optimizing compiler at start: ${name}`, () => {
    assert.equal(mayHoldCompiler(execArgv, nodeOptions), expected);
  });
}

const PORT = 30050; // this file's port block: 30050-30059

/**
 * `torfleet gateway` as users start it, with node's `--trace-opt`: nothing is optimized while it loads (without
 * the hold, the ESM loader's URL helpers are, every time) or sits idle with its fleet watch started in a big
 * directory with a long path (node's path code was), and under load its request path is.
 */
test(
  'torfleet gateway: no function optimized while it starts and idles, its request path optimized under load',
  { timeout: 60_000 },
  async () => {
    // a long directory with other files in it: the fleet watch looks at each of its entries at start
    const dir = path.join(tempDir('startup-compiler'), 'a-fleet-directory-with-a-rather-long-name-as-users-have');
    mkdirSync(dir);
    for (let i = 0; i < 20; i++) writeFileSync(path.join(dir, `other-file-${String(i)}.txt`), 'x');
    const fleetFile = path.join(dir, 'fleet.yaml');
    writeFileSync(
      fleetFile,
      `apiVersion: torfleet/v1\nkind: Fleet\npools: []\ngateway:\n  listen: 127.0.0.1:${String(PORT)}\n  default: socks\n  upstreams:\n    - {name: socks, url: "socks5://127.0.0.1:${String(PORT + 1)}"}\n`,
    );
    const child = spawn(process.execPath, ['--trace-opt', TORFLEET_BIN, 'gateway'], {
      env: cleanEnv({ TORFLEET_FLEET_FILE: fleetFile, NODE_OPTIONS: '' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let traced = '';
    let logged = '';
    child.stdout.on('data', (chunk: Buffer) => (traced += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (logged += chunk.toString()));
    try {
      await waitFor('the gateway listening', () => logged.includes('"msg":"gateway listening"') || undefined, 20_000);
      await new Promise((resolve) => setTimeout(resolve, 1500)); // idle: its fleet watch starts and looks around
      const idle = traced.split('\n').filter((line) => line.includes('optimizing'));
      assert.deepEqual(idle, [], 'nothing optimized while the gateway loaded, nor while it sat idle');
      const agent = new Agent({ keepAlive: true, maxSockets: 4 });
      const page = (): Promise<number> =>
        new Promise((resolve, reject) => {
          get({ host: '127.0.0.1', port: PORT, path: '/proxy.pac', agent }, (res) => {
            res.resume();
            res.on('end', () => {
              resolve(res.statusCode ?? 0);
            });
          }).on('error', reject);
        });
      for (let i = 0; i < 3000; i++) assert.equal(await page(), 200);
      agent.destroy();
      await waitFor(
        'a function optimized under load',
        () => traced.includes('completed optimizing') || undefined,
        20_000,
      );
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
  },
);
