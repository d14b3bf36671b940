/**
 * `make demo`: the whole of torfleet offline, on this machine. A private Tor network on loopback, a git
 * repository holding an example fleet, `torfleet run` (Docker runtime, consensus node source) and a
 * Prometheus scraping it; left running, with the commands to try. `make demo-down` stops all of it.
 * usage: node demo.js up | down
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Docker from 'dockerode';
import { packagePath } from '../package-root.js';
import { startPrivateTorNetwork } from '../tor-network/private-tor-network.js';
import { waitFor } from '../wait-for.js';

const DIR = path.resolve(process.env.TORFLEET_DEMO_DIR ?? 'data/demo');
const PIDS = path.join(DIR, 'pids.json');
const INSTANCE = 'demo';
const API = '127.0.0.1:18080';
const PROMETHEUS = '127.0.0.1:19090';
const US_PORT = 19050;
const DE_PORT = 19051;
/** The packed pool: three NON_US proxies served by one shared tor and its controller, 19052-19054. */
const PACKED_PORT = 19052;
const PACKED_COUNT = 3;
const GATEWAY = '127.0.0.1:18888';
const say = (text: string): void => {
  process.stdout.write(`demo: ${text}\n`);
};

async function up(): Promise<void> {
  if (existsSync(PIDS)) {
    say(`already running (state in ${DIR}); make demo-down first`);
    return;
  }
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(DIR, { recursive: true });
  say(
    'starting a private Tor network on 127.0.0.0/8 (3 directory authorities, a relay, 6 exits: 2 US, 2 DE, FR, NL)...',
  );
  const network = await startPrivateTorNetwork(path.join(DIR, 'tor'), 28500, { detached: true, extraExits: 4 });
  const pids: number[] = [...network.pids];
  writeFileSync(PIDS, JSON.stringify(pids));
  say(`network up: ${network.allExits.map((exit) => `${exit.nickname} ${exit.address} ${exit.country}`).join(', ')}`);

  const repo = path.join(DIR, 'fleet.git');
  const work = path.join(DIR, 'fleet-work');
  execFileSync('git', ['init', '-q', '--bare', '-b', 'main', repo]);
  execFileSync('git', ['clone', '-q', repo, work], { stdio: 'ignore' });
  mkdirSync(path.join(work, 'fleet'));
  const authorities = network.dirAuthorities.map((line) => `    - "${line}"`).join('\n');
  writeFileSync(
    path.join(work, 'fleet', 'fleet.yaml'),
    `apiVersion: torfleet/v1\nkind: Fleet\ntor:\n  testingNetwork: true\n  geoipFile: ${network.geoipFile}\n  dirAuthorities:\n${authorities}\npools:\n  - {name: demo-us, geo: US, mode: strict, count: 1, basePort: ${US_PORT}}\n  - {name: demo-world, geo: NON_US, mode: strict, count: 1, basePort: ${DE_PORT}}\n  - {name: demo-packed, geo: NON_US, mode: strict, count: ${PACKED_COUNT}, basePort: ${PACKED_PORT}, packing: {proxiesPerTor: ${PACKED_COUNT}}}\ngateway:\n  listen: ${GATEWAY}\n  default: demo-us\n`,
  );
  const git = (...args: string[]): void => {
    execFileSync('git', ['-c', 'user.email=demo@torfleet.test', '-c', 'user.name=demo', ...args], {
      cwd: work,
      stdio: 'ignore',
    });
  };
  git('add', '.');
  git('commit', '-qm', 'demo fleet');
  git('push', '-q', 'origin', 'HEAD:main');
  say(`fleet committed to ${repo} (edit and push ${path.join(work, 'fleet', 'fleet.yaml')} to change it)`);

  const detached = (command: string, args: string[], log: string, env: NodeJS.ProcessEnv = process.env): void => {
    const out = openSync(path.join(DIR, log), 'a');
    const child = spawn(command, args, { env, stdio: ['ignore', out, out], detached: true });
    child.unref();
    pids.push(child.pid ?? 0);
    writeFileSync(PIDS, JSON.stringify(pids));
  };
  detached(process.execPath, [packagePath('dist', 'reconciler', 'src', 'cli', 'main.js'), 'run'], 'torfleet.log', {
    ...process.env,
    TORFLEET_INSTANCE: INSTANCE,
    TORFLEET_FLEET_REPO: repo,
    TORFLEET_DB: path.join(DIR, 'nodes.db'),
    TORFLEET_STATE_DIR: path.join(DIR, 'state'),
    TORFLEET_NODE_SOURCE: 'consensus',
    TORFLEET_CONSENSUS_URL: network.consensusUrl,
    TORFLEET_GEOIP_FILE: network.geoipFile,
    TORFLEET_LISTEN: API,
    TORFLEET_PROBE_URL: network.echoUrl,
    TORFLEET_PROBE_INTERVAL: '15s',
    TORFLEET_NODES_REFRESH_INTERVAL: '1m',
    TORFLEET_NODES_MAX_AGE: '1h',
  });
  const promDir = path.join(DIR, 'prometheus');
  mkdirSync(promDir);
  writeFileSync(path.join(promDir, 'alerts.yml'), readFileSync(packagePath('monitoring', 'prometheus', 'alerts.yml')));
  writeFileSync(
    path.join(promDir, 'prometheus.yml'),
    `global:\n  scrape_interval: 5s\nrule_files:\n  - alerts.yml\nscrape_configs:\n  - job_name: torfleet\n    static_configs:\n      - targets: ['${API}']\n`,
  );
  detached(
    'prometheus',
    [
      `--config.file=${path.join(promDir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(promDir, 'data')}`,
      `--web.listen-address=${PROMETHEUS}`,
    ],
    'prometheus.log',
  );

  say('torfleet run is starting the proxies (Docker, host networking)...');
  const packed = Array.from({ length: PACKED_COUNT }, (_, i) => [`demo-packed-${i}`, PACKED_PORT + i] as const);
  for (const [name, port] of [['demo-us-0', US_PORT] as const, ['demo-world-0', DE_PORT] as const, ...packed]) {
    await waitFor(
      `${name} to carry traffic`,
      async () => {
        try {
          const response = await fetch(`http://${API}/proxies/${name}`);
          const view = (await response.json()) as {
            egress?: { result: string; address: string } | null;
            tor?: string | null;
          };
          const served = view.tor ? ` (packed: shared tor ${view.tor})` : '';
          if (view.egress?.result === 'ok')
            say(`${name} on 127.0.0.1:${port}${served}: traffic leaves from ${view.egress.address}`);
          return view.egress?.result === 'ok';
        } catch {
          return false;
        }
      },
      180_000,
    );
  }
  for (const pool of ['demo-us', 'demo-world', 'demo-packed']) {
    const address = await waitFor(
      `the gateway to carry ${pool}'s traffic`,
      () => {
        try {
          const answer = execFileSync('curl', ['-s', '-m', '10', '-x', `http://${pool}@${GATEWAY}`, network.echoUrl], {
            encoding: 'utf8',
          });
          return (JSON.parse(answer) as { IP?: string }).IP;
        } catch {
          return undefined;
        }
      },
      60_000,
    );
    say(`curl -x http://${pool}@${GATEWAY} ...: traffic leaves from ${address}`);
  }
  say(`gateway on ${GATEWAY}: one HTTP/CONNECT/SOCKS5 port for every pool, routed by the proxy username`);
  say('ready. Try:');
  process.stdout.write(
    [
      `  curl --socks5-hostname 127.0.0.1:${US_PORT} ${network.echoUrl}     # through the US exit (127.0.0.11)`,
      `  curl --socks5-hostname 127.0.0.1:${DE_PORT} ${network.echoUrl}     # through the DE exit (127.0.0.12)`,
      `  curl --socks5-hostname 127.0.0.1:${PACKED_PORT} ${network.echoUrl}     # a packed proxy: one tor serves ${PACKED_PORT}-${PACKED_PORT + PACKED_COUNT - 1}, each its own exit`,
      `  curl -x http://demo-us@${GATEWAY} ${network.echoUrl}      # pool demo-us through the gateway (US exit)`,
      `  curl -x http://demo-world@${GATEWAY} ${network.echoUrl}   # pool demo-world through the gateway (DE exit)`,
      `  curl -x http://demo-packed@${GATEWAY} ${network.echoUrl}  # the packed pool through the gateway`,
      `  curl -p -x http://geo-de@${GATEWAY} ${network.echoUrl}    # CONNECT, any proxy exiting in DE`,
      `  curl --socks5-hostname ${GATEWAY} ${network.echoUrl}       # SOCKS5 on the same port: the default route`,
      `  curl -s http://${GATEWAY}/proxy.pac                        # the PAC file for browsers`,
      `  curl -s http://${API}/proxies                  # the API (packed proxies: "tor" and health.circuit)`,
      `  curl -s http://${API}/status`,
      `  curl -s http://${API}/metrics | grep torfleet_`,
      `  open http://${PROMETHEUS}/alerts               # Prometheus with torfleet's alert rules`,
      `  logs: ${DIR}/torfleet.log; stop everything: make demo-down`,
      '',
    ].join('\n'),
  );
}

async function down(): Promise<void> {
  const pids = existsSync(PIDS) ? (JSON.parse(readFileSync(PIDS, 'utf8')) as number[]) : [];
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  await new Promise((resolve) => setTimeout(resolve, 1500));
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  const docker = new Docker();
  const containers = await docker.listContainers({
    all: true,
    filters: { label: ['torfleet.managed=true', `torfleet.instance=${INSTANCE}`] },
  });
  await Promise.all(containers.map((c) => docker.getContainer(c.Id).remove({ force: true })));
  rmSync(DIR, { recursive: true, force: true });
  say(`stopped ${pids.length} processes and removed ${containers.length} proxy containers`);
}

const command = process.argv[2];
if (command === 'up') await up();
else if (command === 'down') await down();
else {
  process.stderr.write('usage: demo.js up | down\n');
  process.exitCode = 1;
}
