import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { connect, createServer, type Server, type Socket } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { cleanEnv, TORFLEET_BIN } from '../testing/run-cli.js';
import { tempDir } from '../testing/temp-dir.js';
import { waitFor } from '../wait-for.js';
import { connectTunnel, echoes } from '../testing/gateway-clients.js';

/**
 * The real `torfleet gateway` process against a sloppy operator and hostile clients: a fleet file that
 * turns into invalid YAML, a directory, a FIFO or 2 MB keeps the routes; a new token refuses the old one for
 * new connections and leaves open tunnels alone; a removed upstream likewise; thousands of half-open
 * connections, huge or non-UTF-8 credentials, bad CONNECT targets, userinfo in an absolute URI and
 * smuggling attempts are refused while everyone else is served. No secret in any output.
 */
const run = promisify(execFile);
const BASE = 30890; // this file's ports: 30890-30909
const GATEWAY_PORT = BASE;
const SOCKS_PORT = BASE + 1;
const SECRETS = { GW_TOKEN: 'adv-token-0c4d2e9b', NEW_TOKEN: 'adv-newtok-51aa7f30' };
const USERINFO_PASSWORD = 'userinfo-pw-8e3b1d';
const dir = tempDir('test-adv-gateway');
const fleetFile = path.join(dir, 'fleet.yaml');
const children: ChildProcess[] = [];
let gateway: ChildProcess;
let output = '';
let origin: HttpServer;
let originPort = 0;
const originHeads: string[] = [];
let echo: Server;
let echoPort = 0;

function fleet(options: { token?: string; other?: boolean } = {}): string {
  const other = options.other === false ? '' : `    - {name: other, url: "socks5://127.0.0.1:${String(SOCKS_PORT)}"}\n`;
  return `apiVersion: torfleet/v1
kind: Fleet
pools: []
gateway:
  listen: 127.0.0.1:${String(GATEWAY_PORT)}
  token: \${${options.token ?? 'GW_TOKEN'}}
  default: socks
  upstreams:
    - {name: socks, url: "socks5://127.0.0.1:${String(SOCKS_PORT)}"}
${other}`;
}

/** curl through the gateway as `user`: the body and status ("origin:/x 200"), or the status alone. */
async function fetchVia(user: string, token = SECRETS.GW_TOKEN): Promise<string> {
  const target = `http://127.0.0.1:${String(originPort)}/x`;
  const proxy = `http://${user}:${token}@127.0.0.1:${String(GATEWAY_PORT)}`;
  const { stdout } = await run('curl', ['-s', '-m', '10', '-x', proxy, '-w', ' %{http_code}', target]);
  return stdout;
}

/** Sends `bytes` on a new connection and collects what comes back until the gateway closes it. */
async function exchange(bytes: string | Buffer): Promise<Buffer> {
  const socket = connect(GATEWAY_PORT, '127.0.0.1');
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.write(bytes);
  await new Promise<void>((resolve) => {
    socket.on('close', () => {
      resolve();
    });
    socket.on('error', () => undefined);
    setTimeout(() => socket.end(), 3000).unref(); // a half-close from us if the gateway waits for more
  });
  return Buffer.concat(chunks);
}

/** Waits until the gateway has logged one more refusal of the fleet than `before`. */
async function refusedAgain(before: number, what: string): Promise<void> {
  const count = (): number => output.split('the fleet cannot be used').length - 1;
  await waitFor(`the fleet refused (${what})`, () => count() > before || undefined, 20_000).catch((error: unknown) => {
    throw new Error(`${String(error)}; the gateway said:\n${output.slice(-3000)}`);
  });
}
const refusals = (): number => output.split('the fleet cannot be used').length - 1;

before(async () => {
  origin = createHttpServer((request, response) => {
    originHeads.push(`${request.method ?? ''} ${request.url ?? ''} ${JSON.stringify(request.headers)}`);
    response.end(`origin:${request.url ?? ''}`);
  });
  await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
  originPort = (origin.address() as { port: number }).port;
  echo = createServer((socket) => {
    socket.on('error', () => undefined);
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  echoPort = (echo.address() as { port: number }).port;
  children.push(spawn('microsocks', ['-i', '127.0.0.1', '-p', String(SOCKS_PORT)], { stdio: 'ignore' }));
  writeFileSync(fleetFile, fleet());
  gateway = spawn(process.execPath, [TORFLEET_BIN, 'gateway'], {
    env: cleanEnv({ TORFLEET_FLEET_FILE: fleetFile, ...SECRETS }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(gateway);
  gateway.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  gateway.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await waitFor('the gateway', () => output.includes('"msg":"gateway listening"') || undefined, 20_000);
  await waitFor('microsocks', async () => (await fetchVia('socks')).endsWith(' 200') || undefined, 10_000);
});

after(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  origin.close();
  echo.close();
});

describe('a sloppy operator: the fleet file', { concurrency: false, timeout: 120_000 }, () => {
  const replaced = async (what: string, make: () => void): Promise<void> => {
    const before = refusals();
    rmSync(fleetFile, { recursive: true, force: true });
    make();
    await refusedAgain(before, what);
    assert.equal(await fetchVia('socks'), 'origin:/x 200', 'the routes kept serve');
  };

  test('invalid YAML, a directory, a FIFO, 2 MB: refused with a reason, the routes kept', async () => {
    // The watcher starts after the listener, with a scan of its own: a change until one is heard.
    const loads = (): number => output.split('gateway routes from the fleet').length - 1;
    const loaded = loads();
    let edits = 0;
    await waitFor('the fleet watch', () => {
      writeFileSync(fleetFile, `${fleet()}# edit ${String((edits += 1))}\n`);
      return loads() > loaded || undefined;
    });
    await replaced('invalid YAML', () => {
      writeFileSync(fleetFile, 'pools: [\n  gateway: {');
    });
    await replaced('a directory', () => {
      mkdirSync(fleetFile);
    });
    await replaced('a FIFO', () => {
      execFileSync('mkfifo', [fleetFile]);
    });
    await replaced('2 MB', () => {
      writeFileSync(fleetFile, `${fleet()}#${'x'.repeat(2 * 1024 * 1024)}\n`);
    });
    const staged = `${fleetFile}.new`;
    rmSync(fleetFile, { recursive: true, force: true });
    writeFileSync(staged, fleet());
    renameSync(staged, fleetFile);
    await waitFor('the fleet again', () => output.includes('gateway routes from the fleet') || undefined);
  });

  test('a new token: the old one refused for new connections, an open tunnel untouched', async () => {
    const tunnel = await connectTunnel(GATEWAY_PORT, `127.0.0.1:${String(echoPort)}`, 'socks', SECRETS.GW_TOKEN);
    writeFileSync(fleetFile, fleet({ token: 'NEW_TOKEN' }));
    await waitFor(
      'the new token',
      async () => (await fetchVia('socks', SECRETS.NEW_TOKEN)).endsWith(' 200') || undefined,
    );
    assert.match(await fetchVia('socks', SECRETS.GW_TOKEN), / 407$/);
    assert.ok(await echoes(tunnel, 'old token, open tunnel'));
    tunnel.destroy();
  });

  test('an upstream removed while a tunnel through it is open: new ones refused, the open one goes on', async () => {
    writeFileSync(fleetFile, fleet({ token: 'GW_TOKEN' }));
    await waitFor('the old token back', async () => (await fetchVia('other')).endsWith(' 200') || undefined);
    const socket = connect(GATEWAY_PORT, '127.0.0.1');
    const auth = Buffer.from(`other:${SECRETS.GW_TOKEN}`).toString('base64');
    socket.write(`CONNECT 127.0.0.1:${String(echoPort)} HTTP/1.1\r\nProxy-Authorization: Basic ${auth}\r\n\r\n`);
    await new Promise((resolve) => socket.once('data', resolve));
    writeFileSync(fleetFile, fleet({ other: false }));
    await waitFor('the route gone', async () => / 407$/.test(await fetchVia('other')) || undefined);
    assert.ok(await echoes(socket, 'through a removed upstream'));
    socket.destroy();
  });
});

describe('hostile clients', { concurrency: false, timeout: 120_000 }, () => {
  const fewFiles = process.platform !== 'linux' && 'macOS allows 256 open files by default';
  test('2,000 half-open connections: everyone else is still served', { skip: fewFiles }, async () => {
    const idle: Socket[] = [];
    for (let i = 0; i < 2000; i++) {
      const socket = connect(GATEWAY_PORT, '127.0.0.1');
      socket.on('error', () => undefined);
      if (i % 2 === 0) socket.write('CONNECT 127.0.0.1:1 HTTP/1.1\r\n'); // half a head, the rest never comes
      idle.push(socket);
    }
    await Promise.all(idle.map((socket) => new Promise((resolve) => socket.once('connect', resolve))));
    assert.equal(await fetchVia('socks'), 'origin:/x 200');
    for (const socket of idle) socket.destroy();
  });

  test('a 100 KB Proxy-Authorization: 431; a 10 KB username: 407 without echoing it', async () => {
    const huge = Buffer.from(`socks:${'a'.repeat(75_000)}`).toString('base64');
    const answer = await exchange(
      `GET http://127.0.0.1:${String(originPort)}/ HTTP/1.1\r\nProxy-Authorization: Basic ${huge}\r\n\r\n`,
    );
    assert.match(answer.toString(), /^HTTP\/1\.1 431/);
    const long = Buffer.from(`${'u'.repeat(10_000)}:${SECRETS.GW_TOKEN}`).toString('base64');
    const refused = (
      await exchange(`CONNECT 127.0.0.1:${String(echoPort)} HTTP/1.1\r\nProxy-Authorization: Basic ${long}\r\n\r\n`)
    ).toString();
    assert.match(refused, /^HTTP\/1\.1 407/);
    assert.ok(!refused.includes('u'.repeat(200)), 'the username is not echoed whole');
  });

  test('a SOCKS5 username of non-UTF-8 bytes: the subnegotiation fails, nothing else', async () => {
    const user = Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0x80]);
    const password = Buffer.from(SECRETS.GW_TOKEN);
    const login = Buffer.concat([Buffer.from([1, user.length]), user, Buffer.from([password.length]), password]);
    const answer = await exchange(Buffer.concat([Buffer.from([5, 1, 2]), login]));
    assert.deepEqual([...answer.subarray(0, 4)], [5, 2, 1, 1]);
  });

  test('CONNECT to port 0, port 65536 and a 300-character name: 400 each', async () => {
    const auth = Buffer.from(`socks:${SECRETS.GW_TOKEN}`).toString('base64');
    for (const target of ['127.0.0.1:0', '127.0.0.1:65536', `${'a'.repeat(300)}.example:443`]) {
      const answer = await exchange(`CONNECT ${target} HTTP/1.1\r\nProxy-Authorization: Basic ${auth}\r\n\r\n`);
      assert.match(answer.toString(), /^HTTP\/1\.1 400/, target.slice(0, 40));
    }
  });

  test('an absolute URI with userinfo: the password is neither forwarded nor logged', async () => {
    originHeads.length = 0;
    const auth = Buffer.from(`socks:${SECRETS.GW_TOKEN}`).toString('base64');
    const url = `http://someone:${USERINFO_PASSWORD}@127.0.0.1:${String(originPort)}/userinfo`;
    const answer = await exchange(
      `GET ${url} HTTP/1.1\r\nHost: 127.0.0.1\r\nProxy-Authorization: Basic ${auth}\r\nConnection: close\r\n\r\n`,
    );
    assert.match(answer.toString(), /^HTTP\/1\.1 (200|400)/);
    assert.ok(!originHeads.join('\n').includes(USERINFO_PASSWORD), `forwarded: ${originHeads.join('\n')}`);
    assert.ok(!output.includes(USERINFO_PASSWORD), 'logged');
  });

  test('Content-Length with Transfer-Encoding: refused, not forwarded', async () => {
    originHeads.length = 0;
    const auth = Buffer.from(`socks:${SECRETS.GW_TOKEN}`).toString('base64');
    const smuggled = `POST http://127.0.0.1:${String(originPort)}/a HTTP/1.1\r\nHost: x\r\nProxy-Authorization: Basic ${auth}\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n`;
    const answer = await exchange(smuggled);
    assert.match(answer.toString(), /^HTTP\/1\.1 400/);
    assert.ok(!originHeads.some((head) => head.includes('/smuggled')), 'the smuggled request reached the origin');
  });

  test('no secret in any output', () => {
    for (const secret of [SECRETS.GW_TOKEN, SECRETS.NEW_TOKEN, USERINFO_PASSWORD]) assert.ok(!output.includes(secret));
  });
});
