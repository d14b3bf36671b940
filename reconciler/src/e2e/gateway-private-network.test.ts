import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { removeTestContainers } from '../testing/docker-cleanup.js';
import { cleanEnv, TORFLEET_BIN } from '../testing/run-cli.js';
import { tempDir } from '../testing/temp-dir.js';
import { startPrivateTorNetwork, type PrivateTorNetwork } from '../tor-network/private-tor-network.js';
import { waitFor } from '../wait-for.js';

/**
 * The gateway inside `torfleet run`, end to end on the private Tor network: through one port, each pool's
 * traffic leaves by its pinned exit (HTTP absolute-URI, CONNECT and SOCKS5 alike), a session keeps its exit,
 * and a killed proxy container is skipped without a failed request.
 */
const run = promisify(execFile);
const docker = new Docker();
const ID = `test-gwe2e${process.pid.toString(36)}`;
const BASE = 30500; // this file's own port block: 30500-30599
const API = `127.0.0.1:${String(BASE + 20)}`;
const GATEWAY = `127.0.0.1:${String(BASE + 40)}`; // the network takes BASE+0..BASE+30
const TOKEN = 'gw-e2e-token-3f9a1c';
const dir = tempDir('gateway-e2e');
const work = path.join(dir, 'work');
const bare = path.join(dir, 'fleet.git');
let network: PrivateTorNetwork;
let service: ChildProcess | undefined;
let logs = '';

const git = (...args: string[]): string =>
  execFileSync('git', ['-c', 'user.email=e2e@torfleet.test', '-c', 'user.name=e2e', ...args], {
    cwd: work,
    encoding: 'utf8',
  });

function commitFleet(): void {
  const authorities = network.dirAuthorities.map((line) => `    - "${line}"`).join('\n');
  writeFileSync(
    path.join(work, 'fleet', 'fleet.yaml'),
    `apiVersion: torfleet/v1
kind: Fleet
tor:
  testingNetwork: true
  geoipFile: ${network.geoipFile}
  dirAuthorities:
${authorities}
pools:
  - {name: ${ID}-us, geo: US, mode: strict, count: 1, basePort: ${String(BASE + 21)}}
  - {name: ${ID}-de, geo: NON_US, mode: strict, count: 1, basePort: ${String(BASE + 22)}}
  - {name: ${ID}-both, geo: [US, DE], mode: rotating, count: 2, basePort: ${String(BASE + 23)}}
gateway:
  listen: ${GATEWAY}
  token: \${GATEWAY_TOKEN}
  default: ${ID}-us
`,
  );
  git('add', '.');
  git('commit', '-qm', 'fleet with a gateway');
  git('push', '-q', 'origin', 'HEAD:main');
}

/** The address the echo server saw through the gateway, asked for route `user` by `how`. */
async function egress(how: 'http' | 'connect' | 'socks5', user: string): Promise<string> {
  const proxy = how === 'socks5' ? `socks5h://${user}:${TOKEN}@${GATEWAY}` : `http://${user}:${TOKEN}@${GATEWAY}`;
  const args = ['-s', '-m', '20', '--fail', '-x', proxy, ...(how === 'connect' ? ['-p'] : []), network.echoUrl];
  const { stdout } = await run('curl', args);
  return (JSON.parse(stdout) as { IP: string }).IP;
}

const settled = async (how: 'http' | 'connect' | 'socks5', user: string): Promise<string> =>
  waitFor(`traffic through ${user} (${how})`, () => egress(how, user).catch(() => undefined), 90_000);

describe('the gateway on a private Tor network', { concurrency: false, timeout: 600_000 }, () => {
  before(async () => {
    await removeTestContainers(docker, ID);
    network = await startPrivateTorNetwork(path.join(dir, 'tor'), BASE);
    execFileSync('git', ['init', '-q', '--bare', '-b', 'main', bare]);
    execFileSync('git', ['clone', '-q', bare, work], { stdio: 'ignore' });
    mkdirSync(path.join(work, 'fleet'));
    commitFleet();
    service = spawn(process.execPath, [TORFLEET_BIN, 'run'], {
      env: cleanEnv({
        TORFLEET_INSTANCE: ID,
        TORFLEET_FLEET_REPO: bare,
        TORFLEET_DB: path.join(dir, 'nodes.db'),
        TORFLEET_STATE_DIR: path.join(dir, 'state'),
        TORFLEET_NODE_SOURCE: 'consensus',
        TORFLEET_CONSENSUS_URL: network.consensusUrl,
        TORFLEET_GEOIP_FILE: network.geoipFile,
        TORFLEET_LISTEN: API,
        TORFLEET_PROBE_URL: network.echoUrl,
        TORFLEET_PROBE_INTERVAL: '2s',
        GATEWAY_TOKEN: TOKEN,
      }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    service.stdout?.on('data', (chunk: Buffer) => (logs += chunk.toString()));
    service.stderr?.on('data', (chunk: Buffer) => (logs += chunk.toString()));
  });
  after(async () => {
    const current = service;
    if (current && current.exitCode === null && current.signalCode === null) {
      const exited = new Promise((resolve) => current.once('exit', resolve));
      current.kill('SIGTERM');
      await exited;
    }
    await removeTestContainers(docker, ID);
    await network.stop();
    assert.ok(!logs.includes(TOKEN), 'the gateway token appeared in the service output');
  });

  test('each pool leaves by its pinned exit, by HTTP, CONNECT and SOCKS5 on the one port', async () => {
    assert.equal(await settled('http', `${ID}-us`), network.exits.us.address);
    assert.equal(await settled('http', `${ID}-de`), network.exits.de.address);
    for (const how of ['connect', 'socks5'] as const) {
      assert.equal(await egress(how, `${ID}-us`), network.exits.us.address, how);
      assert.equal(await egress(how, `${ID}-de`), network.exits.de.address, how);
    }
    assert.equal(await egress('http', `${ID}-us-0`), network.exits.us.address, 'a proxy by name');
    assert.equal(await egress('http', 'geo-de'), network.exits.de.address, 'a geo route');
  });

  test('a session keeps its member (and, but for one circuit change tor may make, its exit) across 20 requests', async () => {
    await settled('http', `${ID}-both`);
    // Stickiness holds while the session's member stays usable: wait until both members' egress checks are ok, so
    // a member still bootstrapping (its first check failing) is not what moves the session.
    await waitFor(
      'both members of the rotating pool to pass an egress check',
      async () => {
        const { proxies } = (await fetch(`http://${API}/proxies`)
          .then((answer) => answer.json())
          .catch(() => ({ proxies: [] }))) as { proxies: { name: string; egress: { result: string } | null }[] };
        const members = proxies.filter((proxy) => proxy.name.startsWith(`${ID}-both-`));
        return members.length === 2 && members.every((proxy) => proxy.egress?.result === 'ok') ? true : undefined;
      },
      90_000,
    );
    const before = logs.length;
    const order: string[] = [];
    for (let i = 0; i < 20; i++) {
      const how = i % 2 === 0 ? 'http' : 'socks5';
      order.push(await egress(how, `${ID}-both-session-abc123`));
    }
    const members = new Set(
      logs
        .slice(before)
        .split('\n')
        .filter((line) => line.includes('"msg":"gateway connection"') && line.includes(`"route":"${ID}-both"`))
        .map((line) => (JSON.parse(line) as { member: string }).member),
    );
    assert.equal(members.size, 1, `one member for the session, saw ${[...members].join(', ')}`);
    // The gateway gives the session one member and one set of SOCKS credentials (tor's isolation). Tor keeps the
    // session's circuit but does not promise its life: on this private network a rotating member's session was seen
    // to move to a new circuit (another exit) once, mid-run, with no pass, reload, signal or health event in the logs.
    // More than one change would be the gateway's doing.
    const changes = order.filter((address, i) => i > 0 && address !== order[i - 1]).length;
    assert.ok(changes <= 1, `the session's exit changed ${changes} times: ${order.join(' ')}`);
  });

  test('a killed proxy container is skipped without a failed request', async () => {
    await settled('http', `${ID}-both`);
    const [victim] = await docker.listContainers({ filters: { name: [`torfleet-${ID}-both-0`] } });
    assert.ok(victim, 'the container of both-0');
    await docker.getContainer(victim.Id).kill();
    for (let i = 0; i < 20; i++) {
      const address = await egress(i % 3 === 0 ? 'socks5' : i % 3 === 1 ? 'connect' : 'http', `${ID}-both`);
      assert.ok([network.exits.us.address, network.exits.de.address].includes(address), address);
    }
  });

  test('the gateway metrics show in the service metrics, with no username or target', async () => {
    const text = await (await fetch(`http://${API}/metrics`)).text();
    assert.ok(text.includes(`route="${ID}-us"`), 'a series of the us route');
    assert.match(text, /^torfleet_gateway_connections_total\{/m);
    assert.doesNotMatch(text, /abc123|127\.0\.0\.1:\d+\/|gw-e2e-token/);
  });
});
