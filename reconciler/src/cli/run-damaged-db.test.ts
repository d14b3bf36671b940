import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readdirSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { cleanEnv, runTorfleet, TORFLEET_BIN } from '../testing/run-cli.js';
import { sharedConsensusFile, sharedGeoIpFile } from '../testing/shared-data.js';
import { tempDir } from '../testing/temp-dir.js';
import { waitFor } from '../wait-for.js';

/**
 * Issue 8, item 7: `torfleet run` on a node database with corrupted pages used to print a stack trace and stay
 * up with no pass ever running (/healthz 200, /readyz 503). Now the damaged file is moved aside, a fresh database
 * is filled by the start-up refresh, a pass converges and the service is live and ready — no stack trace.
 */
const PORT = 31400; // this file's port block: 31400-31449
const API = `127.0.0.1:${PORT}`;
const dir = tempDir('run-damaged-db');
const db = path.join(dir, 'nodes.db');
const fleetFile = path.join(dir, 'fleet.yaml');
const settings = {
  TORFLEET_INSTANCE: `test-damaged${process.pid.toString(36)}`,
  TORFLEET_FLEET_FILE: fleetFile,
  TORFLEET_RUNTIME: 'process',
  TORFLEET_DB: db,
  TORFLEET_STATE_DIR: path.join(dir, 'state'),
  TORFLEET_NODE_SOURCE: 'consensus',
  TORFLEET_CONSENSUS_URL: sharedConsensusFile,
  TORFLEET_GEOIP_FILE: sharedGeoIpFile,
  TORFLEET_NODES_MAX_AGE: '3650d',
  TORFLEET_LISTEN: API,
};
const env = cleanEnv(settings);

let service: ChildProcess | undefined;
let output = '';
after(() => {
  service?.kill('SIGTERM');
});

describe('torfleet run on a damaged node database', () => {
  test('moves it aside, rebuilds it, converges, and stays live and ready', async () => {
    writeFileSync(fleetFile, 'apiVersion: torfleet/v1\nkind: Fleet\ntor:\n  disableNetwork: true\npools: []\n');
    assert.equal((await runTorfleet(['nodes', 'refresh'], settings)).code, 0);
    // Garbage over every page but the header: the schema is readable, the relay tables are not.
    const fd = openSync(db, 'r+');
    for (let page = 1; page < 200; page++) writeSync(fd, Buffer.alloc(4096, 0xa5), 0, 4096, page * 4096);
    closeSync(fd);

    service = spawn(process.execPath, [TORFLEET_BIN, 'run'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    service.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    service.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const answer = async (route: string): Promise<number> =>
      (await fetch(`http://${API}${route}`).catch(() => undefined))?.status ?? 0;
    await waitFor('/readyz 200', async () => (await answer('/readyz')) === 200, 60_000).catch((error: unknown) => {
      throw new Error(`${String(error)}; output:\n${output}`);
    });
    assert.equal(await answer('/healthz'), 200);
    const nodes = (await (await fetch(`http://${API}/nodes`)).json()) as { exits: { US: number } };
    assert.equal(nodes.exits.US, 294, 'the fresh database was filled by the start-up refresh');
    assert.ok(
      readdirSync(dir).some((name) => name.startsWith('nodes.db.corrupt-')),
      'the damaged file was kept beside it',
    );
    assert.match(output, /"msg":"pass finished".*"outcome":"converged"/);
    assert.doesNotMatch(output, /\n\s+at .+:\d+:\d+\)?\n/, 'no stack trace');
  });
});
