import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { cleanEnv, runTorfleet, TORFLEET_BIN } from '../testing/run-cli.js';
import { tempDir } from '../testing/temp-dir.js';
import { waitFor } from '../wait-for.js';
import { connectTunnel, echoes } from '../testing/gateway-clients.js';

/**
 * `torfleet gateway` as users run it: a fleet file of upstreams only (a real microsocks with user/password),
 * through a real tinyproxy as the corporate proxy; --no-corporate; fleet changes followed without dropping
 * an open tunnel; an invalid fleet keeps the routes; SIGTERM drains. No secret in any output.
 */
const run = promisify(execFile);
const BASE = 30710; // this file's port block: 30710-30729
const GATEWAY = `127.0.0.1:${String(BASE)}`;
const DIRECT_GATEWAY = `127.0.0.1:${String(BASE + 3)}`;
const SOCKS_PORT = BASE + 1;
const CORP_PORT = BASE + 2;
const SECRETS = {
  GW_TOKEN: 'gwtok-7d1e5a-0b9c44e1',
  SOCKS_AUTH: 'sockuser:sockpass-91b2',
  CORP_AUTH: 'corpuser:corppass-44c0',
};
const dir = tempDir('gateway-command');
const fleetFile = path.join(dir, 'fleet.yaml');
const corpLog = path.join(dir, 'tinyproxy.log');
const children: ChildProcess[] = [];
let origin: Server;
let echo: ReturnType<typeof createServer>;
let originPort = 0;
let echoPort = 0;

function fleet(extra = '', defaultRoute = 'socks'): string {
  return `apiVersion: torfleet/v1
kind: Fleet
pools: []
gateway:
  listen: ${GATEWAY}
  token: \${GW_TOKEN}
  default: ${defaultRoute}
  upstreams:
    - {name: socks, url: "socks5://127.0.0.1:${String(SOCKS_PORT)}", auth: "\${SOCKS_AUTH}"}
${extra}  corporate:
    address: 127.0.0.1:${String(CORP_PORT)}
    auth: \${CORP_AUTH}
`;
}

function start(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): ChildProcess & { output: () => string } {
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  children.push(child);
  return Object.assign(child, { output: () => output });
}

const gateway = (...args: string[]) =>
  start(process.execPath, [TORFLEET_BIN, 'gateway', ...args], cleanEnv({ TORFLEET_FLEET_FILE: fleetFile, ...SECRETS }));

async function listening(child: { output: () => string }, address: string): Promise<void> {
  await waitFor(`gateway on ${address}`, () => child.output().includes(`"address":"${address}"`) || undefined, 20_000);
}

/** curl through the gateway at `address` as route `user`; the body, or the HTTP status on failure. */
async function fetchVia(address: string, user: string, token = SECRETS.GW_TOKEN): Promise<string> {
  const { stdout } = await run('curl', [
    '-s',
    '-m',
    '10',
    '-x',
    `http://${user}:${token}@${address}`,
    '-w',
    ' %{http_code}',
    `http://127.0.0.1:${String(originPort)}/hello`,
  ]);
  return stdout;
}

describe('torfleet gateway', { concurrency: false, timeout: 120_000 }, () => {
  before(async () => {
    origin = createHttpServer((request, response) => response.end(`origin:${request.url ?? ''}`));
    await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
    originPort = (origin.address() as { port: number }).port;
    echo = createServer((socket) => socket.pipe(socket).on('error', () => undefined));
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    echoPort = (echo.address() as { port: number }).port;
    const [user, pass] = SECRETS.SOCKS_AUTH.split(':') as [string, string];
    start('microsocks', ['-i', '127.0.0.1', '-p', String(SOCKS_PORT), '-u', user, '-P', pass]);
    const [corpUser, corpPass] = SECRETS.CORP_AUTH.split(':') as [string, string];
    const conf = path.join(dir, 'tinyproxy.conf');
    writeFileSync(
      conf,
      `Port ${String(CORP_PORT)}\nListen 127.0.0.1\nTimeout 30\nLogFile "${corpLog}"\nLogLevel Connect\nMaxClients 50\nBasicAuth ${corpUser} ${corpPass}\nConnectPort ${String(SOCKS_PORT)}\n`,
    );
    writeFileSync(corpLog, '');
    start('tinyproxy', ['-d', '-c', conf]);
    writeFileSync(fleetFile, fleet());
  });
  after(() => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    origin.close();
    echo.close();
  });

  test('through the corporate proxy to the SOCKS upstream; the corporate sees only the hop to the upstream', async () => {
    const child = gateway();
    await listening(child, GATEWAY);
    assert.equal(
      await waitFor('a first answer', () => fetchVia(GATEWAY, 'socks').catch(() => undefined)),
      'origin:/hello 200',
    );
    assert.equal(await fetchVia(GATEWAY, ''), 'origin:/hello 200', 'no username: the default route');
    const log = readFileSync(corpLog, 'utf8');
    assert.match(log, new RegExp(`CONNECT.*127\\.0\\.0\\.1:${String(SOCKS_PORT)}`));
    assert.doesNotMatch(log, new RegExp(String(originPort)), 'the target is for the upstream only');
  });

  test('a wrong token or an unknown route: 407 naming the valid routes', async () => {
    const { stdout } = await run('curl', [
      '-s',
      '-m',
      '5',
      '-x',
      `http://nope:${SECRETS.GW_TOKEN}@${GATEWAY}`,
      '-w',
      ' %{http_code}',
      `http://127.0.0.1:${String(originPort)}/`,
    ]);
    assert.match(stdout, /socks/);
    assert.match(stdout, / 407$/);
    assert.match(await fetchVia(GATEWAY, 'socks', 'wrong-token'), / 407$/);
  });

  test('--listen beyond loopback without a gateway token: one line, exit 1, nothing listens', async () => {
    const open = path.join(dir, 'no-token.yaml');
    writeFileSync(open, fleet().replace(/^ {2}token: .*\n/m, ''));
    const result = await runTorfleet(['gateway', '--listen', '192.0.2.1:30719'], {
      TORFLEET_FLEET_FILE: open,
      ...SECRETS,
    });
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /^torfleet: --listen is 192\.0\.2\.1:30719, beyond loopback: set gateway\.token: \$\{GATEWAY_TOKEN\} in the fleet \(clients send it as the proxy password\)/m,
    );
  });

  test('--no-corporate: straight to the upstream, the corporate proxy sees nothing', async () => {
    const before = readFileSync(corpLog, 'utf8').length;
    const child = gateway('--no-corporate', '--listen', DIRECT_GATEWAY);
    await listening(child, DIRECT_GATEWAY);
    assert.equal(await fetchVia(DIRECT_GATEWAY, 'socks'), 'origin:/hello 200');
    assert.doesNotMatch(readFileSync(corpLog, 'utf8').slice(before), /CONNECT/);
    child.kill('SIGTERM');
  });

  test('a fleet change adds a route without dropping an open tunnel; an invalid fleet keeps the routes', async () => {
    const child = children.find((c) => c.spawnargs.includes('gateway') && !c.spawnargs.includes('--no-corporate'));
    assert.ok(child);
    const tunnel = await connectTunnel(BASE, `127.0.0.1:${String(echoPort)}`, 'socks', SECRETS.GW_TOKEN);
    writeFileSync(
      fleetFile,
      fleet(`    - {name: other, url: "socks5://127.0.0.1:${String(SOCKS_PORT)}", auth: "\${SOCKS_AUTH}"}\n`),
    );
    assert.equal(
      await waitFor('the new route', async () =>
        (await fetchVia(GATEWAY, 'other')).endsWith(' 200') ? 'ok' : undefined,
      ),
      'ok',
    );
    assert.ok(await echoes(tunnel, 'still here'), 'the open tunnel survived the change');
    writeFileSync(fleetFile, fleet('', 'nothing-by-this-name'));
    const output = (child as unknown as { output: () => string }).output;
    await waitFor('the refusal logged', () => output().includes('the fleet cannot be used') || undefined);
    assert.equal(await fetchVia(GATEWAY, 'other'), 'origin:/hello 200', 'the last good routes still serve');
    assert.ok(await echoes(tunnel, 'and still'), 'the tunnel too');
    tunnel.destroy();
  });

  test('SIGTERM: no new connections, open tunnels drain, exit 0; no secret in any output', async () => {
    writeFileSync(fleetFile, fleet());
    const child = children.find((c) => c.spawnargs.includes('gateway') && !c.spawnargs.includes('--no-corporate'));
    assert.ok(child);
    const tunnel = await connectTunnel(BASE, `127.0.0.1:${String(echoPort)}`, 'socks', SECRETS.GW_TOKEN);
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await waitFor(
      'the listener closed',
      async () => (await fetchVia(GATEWAY, 'socks').catch(() => 'refused')) === 'refused' || undefined,
    );
    assert.ok(await echoes(tunnel, 'draining'), 'an open tunnel goes on while the gateway drains');
    tunnel.end();
    assert.equal(await exited, 0);
    for (const c of children.filter((c) => c.spawnargs.includes('gateway'))) {
      const text = (c as unknown as { output: () => string }).output();
      for (const secret of [SECRETS.GW_TOKEN, ...SECRETS.SOCKS_AUTH.split(':'), ...SECRETS.CORP_AUTH.split(':')]) {
        assert.ok(!text.includes(secret), `a secret in the output of ${c.spawnargs.join(' ')}`);
      }
    }
  });
});
