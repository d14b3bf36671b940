import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { cleanEnv, TORFLEET_BIN } from '../testing/run-cli.js';
import { sharedConsensusFile, sharedGeoIpFile } from '../testing/shared-data.js';
import { tempDir } from '../testing/temp-dir.js';
import { waitFor } from '../wait-for.js';
import { connectTunnel, echoes } from '../testing/gateway-clients.js';

/**
 * `torfleet run` serving the gateway (process runtime, `pools: []` and a real microsocks upstream with
 * user/password, so no Docker or tor): a gateway port taken at start is one line and a retry, not an end;
 * run's /metrics carries the gateway's series and passes promtool; a moved listener; SIGTERM drains an open
 * tunnel and exits 0; no secret in any output or in /metrics.
 */
const execute = promisify(execFile);
const BASE = 30870; // this file's ports: 30870-30889
const API = `127.0.0.1:${String(BASE)}`;
const GATEWAY_PORT = BASE + 1;
const MOVED_PORT = BASE + 3;
const SOCKS_PORT = BASE + 2;
const SECRETS = { GW_TOKEN: 'rungw-tok-6f2a91c0', SOCKS_AUTH: 'rgwuser:rgwpass-3d8e77' };
const dir = tempDir('test-adv-run-gw');
const fleetFile = path.join(dir, 'fleet.yaml');
const children: ChildProcess[] = [];
let echo: Server;
let echoPort = 0;
let output = '';

function fleet(port: number): string {
  return `apiVersion: torfleet/v1
kind: Fleet
pools: []
gateway:
  listen: 127.0.0.1:${String(port)}
  token: \${GW_TOKEN}
  default: socks
  upstreams:
    - {name: socks, url: "socks5://127.0.0.1:${String(SOCKS_PORT)}", auth: "\${SOCKS_AUTH}"}
`;
}

const serves = async (port: number): Promise<boolean> =>
  fetch(`http://127.0.0.1:${String(port)}/proxy.pac`).then(
    (response) => response.status === 200,
    () => false,
  );

before(async () => {
  echo = createServer((socket) => {
    socket.on('error', () => undefined);
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  echoPort = (echo.address() as { port: number }).port;
  const [user, pass] = SECRETS.SOCKS_AUTH.split(':') as [string, string];
  const socks = spawn('microsocks', ['-i', '127.0.0.1', '-p', String(SOCKS_PORT), '-u', user, '-P', pass], {
    stdio: 'ignore',
  });
  children.push(socks);
});

after(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  echo.close();
});

describe('torfleet run with a gateway section', { concurrency: false, timeout: 120_000 }, () => {
  let service: ChildProcess;

  test('its port taken at start: one line naming the address, the rest runs, the gateway comes once free', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(GATEWAY_PORT, '127.0.0.1', resolve));
    writeFileSync(fleetFile, fleet(GATEWAY_PORT));
    service = spawn(process.execPath, [TORFLEET_BIN, 'run'], {
      env: cleanEnv({
        TORFLEET_INSTANCE: `test-adv${process.pid.toString(36)}`,
        TORFLEET_FLEET_FILE: fleetFile,
        TORFLEET_RUNTIME: 'process',
        TORFLEET_DB: path.join(dir, 'nodes.db'),
        TORFLEET_STATE_DIR: path.join(dir, 'state'),
        TORFLEET_NODE_SOURCE: 'consensus',
        TORFLEET_CONSENSUS_URL: sharedConsensusFile,
        TORFLEET_GEOIP_FILE: sharedGeoIpFile,
        TORFLEET_NODES_MAX_AGE: '3650d',
        TORFLEET_LISTEN: API,
        ...SECRETS,
      }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(service);
    service.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    service.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const refusal = `the gateway cannot listen on 127.0.0.1:${String(GATEWAY_PORT)}`;
    await waitFor('the refusal', () => output.includes(refusal) || undefined, 30_000);
    assert.equal((await fetch(`http://${API}/metrics`)).status, 200, 'the API serves meanwhile');
    assert.equal(service.exitCode, null, 'run goes on');
    const lines = output.split('\n').filter((line) => line.includes('EADDRINUSE'));
    const retries = lines.filter((line) => line.includes('restarting it after a backoff'));
    assert.deepEqual(lines, retries, 'one line per failed attempt: the retry, with the address and why');
    await new Promise<void>((resolve) => {
      blocker.close(() => {
        resolve();
      });
    });
    await waitFor('the gateway serves', async () => (await serves(GATEWAY_PORT)) || undefined, 90_000);
    assert.doesNotMatch(output, /failure\(\) before start/, 'the gateway runnable never failed for nothing');
  });

  test("run's /metrics has the gateway's series after a tunnel, promtool accepts it all, no secret in it", async () => {
    const tunnel = await connectTunnel(GATEWAY_PORT, `127.0.0.1:${String(echoPort)}`, 'socks', SECRETS.GW_TOKEN);
    assert.ok(await echoes(tunnel, 'through run'));
    tunnel.destroy();
    const text = await waitFor('the counted tunnel', async () => {
      const body = await (await fetch(`http://${API}/metrics`)).text();
      return /torfleet_gateway_connections_total\{[^}]*route="socks"[^}]*\} 1/.test(body) ? body : undefined;
    });
    assert.match(text, /^torfleet_gateway_bytes_total\{/m);
    const file = path.join(dir, 'metrics.txt');
    writeFileSync(file, text);
    await execute('sh', ['-c', `promtool check metrics < ${file}`]); // rejects on a promtool error
    for (const secret of [SECRETS.GW_TOKEN, ...SECRETS.SOCKS_AUTH.split(':')]) assert.ok(!text.includes(secret));
  });

  test('the fleet moves the listener: the new port serves, the old one is closed', async () => {
    writeFileSync(fleetFile, fleet(MOVED_PORT));
    await waitFor('the moved gateway', async () => (await serves(MOVED_PORT)) || undefined, 30_000);
    assert.equal(await serves(GATEWAY_PORT), false);
  });

  test('the section removed: the port closes, the rest runs; added back: it serves again', async () => {
    writeFileSync(fleetFile, 'apiVersion: torfleet/v1\nkind: Fleet\npools: []\n');
    await waitFor('the gateway gone', async () => !(await serves(MOVED_PORT)) || undefined, 30_000);
    assert.equal((await fetch(`http://${API}/metrics`)).status, 200);
    writeFileSync(fleetFile, fleet(MOVED_PORT));
    await waitFor('the gateway back', async () => (await serves(MOVED_PORT)) || undefined, 30_000);
  });

  test('SIGTERM with a tunnel open: no new connections, the tunnel goes on, then exit 0; no secret shown', async () => {
    const tunnel = await connectTunnel(MOVED_PORT, `127.0.0.1:${String(echoPort)}`, 'socks', SECRETS.GW_TOKEN);
    const exited = new Promise<number | null>((resolve) => service.once('exit', resolve));
    service.kill('SIGTERM');
    await waitFor('the listener closed', async () => !(await serves(MOVED_PORT)) || undefined, 20_000);
    assert.ok(await echoes(tunnel, 'draining'), 'the open tunnel goes on while run drains');
    tunnel.end();
    assert.equal(await exited, 0);
    for (const secret of [SECRETS.GW_TOKEN, ...SECRETS.SOCKS_AUTH.split(':')]) {
      assert.ok(!output.includes(secret), 'a secret in the output of run');
    }
  });
});
