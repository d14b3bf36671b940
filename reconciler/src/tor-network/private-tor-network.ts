import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ipv4ToNumber } from '../nodes/geoip.js';
import { waitFor } from '../wait-for.js';

/**
 * A complete private Tor network on 127.0.0.0/8, for the demo and for testing a fleet offline: three directory
 * authorities, a middle relay, two exits on their own addresses (exit-us on 127.0.0.11, which the network's own
 * GeoIP file puts in the US; exit-de on 127.0.0.12, in DE), and an HTTP echo server answering the peer address it
 * sees as `{"IP": "..."}`. Exits connect to loopback from their own address through an LD_PRELOAD shim (tor skips
 * OutboundBindAddress for loopback targets; bind-shim.c, compiled with gcc at start). Nothing leaves this machine:
 * every tor has this network's DirAuthority lines. A fleet joins it with `tor.testingNetwork: true`,
 * `tor.dirAuthorities` and `tor.geoipFile` from the returned value (see demo/demo.ts). Needs tor, tor-gencert, gcc.
 * With `extraExits` (1-4) it runs more exits, each on its own address and in the GeoIP file: exitus2 127.0.0.13 US,
 * exitde2 127.0.0.14 DE, exitfr 127.0.0.15 FR, exitnl 127.0.0.16 NL (ORPorts basePort+20 ...).
 */
export interface PrivateTorNetwork {
  /** DirAuthority lines (without the keyword) for clients, such as the fleet's tor.dirAuthorities. */
  readonly dirAuthorities: readonly string[];
  /** A directory port's consensus URL (TORFLEET_CONSENSUS_URL). */
  readonly consensusUrl: string;
  /** The network's GeoIP file (TORFLEET_GEOIP_FILE, the fleet's tor.geoipFile). */
  readonly geoipFile: string;
  readonly exits: { readonly us: ExitRelay; readonly de: ExitRelay };
  /** Every exit: `us` and `de` first, then the extra ones in the order above. */
  readonly allExits: readonly ExitRelay[];
  /** `http://127.0.0.1:PORT/`: answers `{"IP": "<peer address>"}`. */
  readonly echoUrl: string;
  /** Every process the network runs now (tor nodes and the echo server), for stopping them by pid later. */
  readonly pids: readonly number[];
  /** Kills an exit (`us`, `de` or any exit's nickname); resolves once it has exited. */
  stopExit(name: string): Promise<void>;
  /** Starts a stopped exit again (same keys, same address); resolves once its ORPort accepts connections. */
  startExit(name: string): Promise<void>;
  stop(): Promise<void>;
}

export interface ExitRelay {
  readonly nickname: string;
  readonly address: string;
  readonly fingerprint: string;
  /** Its country in the network's GeoIP file (`US`, `DE`, ...). */
  readonly country: string;
}

/** The exits `extraExits` adds, in order: nickname, address, country. */
const EXTRA_EXITS = [
  ['exitus2', '127.0.0.13', 'US'],
  ['exitde2', '127.0.0.14', 'DE'],
  ['exitfr', '127.0.0.15', 'FR'],
  ['exitnl', '127.0.0.16', 'NL'],
] as const;

interface Node {
  readonly name: string;
  readonly address: string;
  readonly orPort: number;
  readonly dirPort: number | null;
  readonly role: 'authority' | 'middle' | 'exit';
}

const HERE = path.dirname(fileURLToPath(import.meta.url));

export interface NetworkOptions {
  /** Leave every process running after this process exits (the demo); `stop()` still ends them. */
  readonly detached?: boolean;
  /** More exits beyond exit-us and exit-de (0-4; default 0), for tests that need many distinct exits. */
  readonly extraExits?: number;
}

export async function startPrivateTorNetwork(
  dir: string,
  basePort: number,
  options: NetworkOptions = {},
): Promise<PrivateTorNetwork> {
  const extraExits = options.extraExits ?? 0;
  if (!Number.isInteger(extraExits) || extraExits < 0 || extraExits > EXTRA_EXITS.length) {
    throw new Error(`extraExits must be an integer from 0 to ${EXTRA_EXITS.length}, not ${extraExits}`);
  }
  const extra = EXTRA_EXITS.slice(0, extraExits);
  mkdirSync(dir, { recursive: true });
  const nodes: Node[] = [
    ...[1, 2, 3].map((i): Node => ({
      name: `auth${i}`,
      address: '127.0.0.1',
      orPort: basePort + i,
      dirPort: basePort + 10 + i,
      role: 'authority',
    })),
    { name: 'middle', address: '127.0.0.1', orPort: basePort + 4, dirPort: null, role: 'middle' },
    { name: 'exitus', address: '127.0.0.11', orPort: basePort + 5, dirPort: null, role: 'exit' },
    { name: 'exitde', address: '127.0.0.12', orPort: basePort + 6, dirPort: null, role: 'exit' },
    ...extra.map(([name, address], i): Node => ({
      name,
      address,
      orPort: basePort + 20 + i,
      dirPort: null,
      role: 'exit',
    })),
  ];
  const countries = new Map<string, string>([
    ['exitus', 'US'],
    ['exitde', 'DE'],
    ...extra.map(([name, , country]): [string, string] => [name, country]),
  ]);
  const shim = path.join(dir, 'bind-shim.so');
  execFileSync('gcc', ['-shared', '-fPIC', '-O2', '-o', shim, path.join(sourceDir(), 'bind-shim.c'), '-ldl']);
  const geoipFile = path.join(dir, 'geoip');
  const range = (ip: string, country: string): string => `${ipv4ToNumber(ip) ?? 0},${ipv4ToNumber(ip) ?? 0},${country}`;
  const extraRanges = extra.map(([, address, country]) => `${range(address, country)}\n`).join('');
  writeFileSync(
    geoipFile,
    `# torfleet test GeoIP\n${range('127.0.0.11', 'US')}\n${range('127.0.0.12', 'DE')}\n${extraRanges}`,
  );
  writeFileSync(path.join(dir, 'resolv.conf'), 'nameserver 127.0.0.1\n'); // nothing answers: exits resolve nothing

  const fingerprints = new Map<string, string>();
  const authorities: string[] = [];
  for (const node of nodes) {
    const data = path.join(dir, node.name);
    mkdirSync(path.join(data, 'keys'), { recursive: true, mode: 0o700 });
    if (node.role === 'authority') {
      execFileSync(
        'tor-gencert',
        [
          '--create-identity-key',
          '--passphrase-fd',
          '0',
          '-m',
          '12',
          '-a',
          `${node.address}:${node.dirPort ?? 0}`,
          '-i',
          path.join(data, 'keys', 'authority_identity_key'),
          '-s',
          path.join(data, 'keys', 'authority_signing_key'),
          '-c',
          path.join(data, 'keys', 'authority_certificate'),
        ],
        { input: '\n', stdio: ['pipe', 'ignore', 'ignore'] },
      );
    }
    execFileSync(
      'tor',
      [
        '--list-fingerprint',
        '--ignore-missing-torrc',
        '-f',
        '/dev/null',
        '--defaults-torrc',
        '/dev/null',
        '--ORPort',
        `${node.address}:${node.orPort}`,
        '--DataDirectory',
        data,
        '--Nickname',
        node.name,
      ],
      { stdio: 'ignore' },
    );
    const fingerprint = readFileSync(path.join(data, 'fingerprint'), 'utf8').trim().split(' ')[1] ?? '';
    fingerprints.set(node.name, fingerprint);
    if (node.role === 'authority') {
      const v3ident =
        /fingerprint ([0-9A-F]{40})/.exec(
          readFileSync(path.join(data, 'keys', 'authority_certificate'), 'utf8'),
        )?.[1] ?? '';
      authorities.push(
        `${node.name} orport=${node.orPort} no-v2 v3ident=${v3ident} ${node.address}:${node.dirPort ?? 0} ${fingerprint}`,
      );
    }
  }

  const processes = new Map<string, ChildProcess>();
  const detached = options.detached === true;
  const start = (name: string, command: string, args: string[], env: NodeJS.ProcessEnv): void => {
    const child = spawn(command, args, { env, stdio: 'ignore', detached });
    if (detached) child.unref();
    processes.set(name, child);
  };
  const echoPort = basePort + 30;
  start('echo', process.execPath, [path.join(HERE, 'echo-server.js'), String(echoPort)], process.env);
  const startNode = (node: Node): void => {
    const torrc = path.join(dir, `${node.name}.torrc`);
    const env =
      node.role === 'exit' ? { ...process.env, LD_PRELOAD: shim, TORFLEET_BIND_ADDRESS: node.address } : process.env;
    start(node.name, 'tor', ['-f', torrc, '--defaults-torrc', '/dev/null'], env);
  };
  for (const node of nodes) {
    writeFileSync(path.join(dir, `${node.name}.torrc`), torrcOf(node, dir, authorities, geoipFile));
    startNode(node);
  }
  const consensusUrl = `http://127.0.0.1:${basePort + 11}/tor/status-vote/current/consensus`;
  const exitNodes = nodes.filter((node) => node.role === 'exit');
  const exitFingerprints = exitNodes.map((node) => fingerprints.get(node.name));
  const exitRelay = (node: Node): ExitRelay => ({
    nickname: node.name,
    address: node.address,
    fingerprint: fingerprints.get(node.name) ?? '',
    country: countries.get(node.name) ?? '',
  });
  const exitNode = (name: string): Node => {
    const nickname = name === 'us' ? 'exitus' : name === 'de' ? 'exitde' : name;
    const node = exitNodes.find((candidate) => candidate.name === nickname);
    if (!node) throw new Error(`no exit named ${name} in this network (${exitNodes.map((n) => n.name).join(', ')})`);
    return node;
  };
  const stopProcess = async (child: ChildProcess | undefined): Promise<void> => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  };
  const network: PrivateTorNetwork = {
    dirAuthorities: authorities,
    consensusUrl,
    geoipFile,
    exits: { us: exitRelay(exitNode('us')), de: exitRelay(exitNode('de')) },
    allExits: exitNodes.map(exitRelay),
    echoUrl: `http://127.0.0.1:${echoPort}/`,
    get pids() {
      return [...processes.values()].map((child) => child.pid ?? 0);
    },
    stopExit: (name) => stopProcess(processes.get(exitNode(name).name)),
    async startExit(name) {
      const node = exitNode(name);
      const running = processes.get(node.name);
      if (running && running.exitCode === null && running.signalCode === null) return;
      startNode(node);
      await waitFor(`exit ${node.name} listening on ${node.address}:${node.orPort}`, () =>
        accepts(node.address, node.orPort),
      );
    },
    async stop() {
      await Promise.all([...processes.values()].map(stopProcess));
    },
  };
  try {
    // The network is up when the authorities' consensus lists both exits as running exits, AND each exit holds
    // such a consensus itself: an exit still on an older consensus (one without exits) answers a client's
    // first streams with END "misc error" for a few seconds ("Have tried resolving or connecting to address
    // at 3 different places. Giving up."), which made a proxy started at once fail its first checks.
    await waitFor(
      'a consensus with every exit, at the authorities and at each exit',
      async () => {
        const text = await fetch(consensusUrl).then(
          (r) => (r.ok ? r.text() : ''),
          () => '',
        );
        const listsEvery = (consensus: string): boolean =>
          exitFingerprints.every((fp) => fp && consensusHasExit(consensus, fp));
        return listsEvery(text) && exitNodes.every((exit) => cachedConsensuses(dir, exit.name).some(listsEvery))
          ? true
          : undefined;
      },
      120_000,
    );
  } catch (error) {
    await network.stop();
    throw error;
  }
  return network;
}

/** Whether something accepts TCP connections on `address:port` now. */
function accepts(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, address);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      resolve(false);
    });
  });
}

/** The consensuses a relay holds (each flavour it cached); none before it has one. */
function cachedConsensuses(dir: string, node: string): string[] {
  return ['cached-microdesc-consensus', 'cached-consensus'].flatMap((file) => {
    try {
      return [readFileSync(path.join(dir, node, file), 'utf8')];
    } catch {
      return []; // not cached yet
    }
  });
}

function consensusHasExit(text: string, fingerprint: string): boolean {
  const identity = Buffer.from(fingerprint, 'hex').toString('base64').replace(/=+$/, '');
  const at = text.indexOf(` ${identity} `);
  if (at === -1) return false;
  const flags = /\ns ([^\n]*)/.exec(text.slice(at))?.[1] ?? '';
  return flags.includes('Exit') && flags.includes('Running');
}

function torrcOf(node: Node, dir: string, authorities: readonly string[], geoipFile: string): string {
  const lines = [
    'TestingTorNetwork 1',
    'RunAsDaemon 0',
    `DataDirectory ${path.join(dir, node.name)}`,
    `Log notice file ${path.join(dir, node.name, 'notice.log')}`,
    `Nickname ${node.name}`,
    `Address ${node.address}`,
    `ORPort ${node.address}:${node.orPort}`,
    'SocksPort 0',
    'AssumeReachable 1',
    'PathsNeededToBuildCircuits 0.67',
    'TestingDirAuthVoteGuard *',
    'TestingDirAuthVoteHSDir *',
    'TestingMinExitFlagThreshold 0',
    'V3AuthNIntervalsValid 2',
    'UseDefaultFallbackDirs 0',
    'ShutdownWaitLength 2',
    'SafeLogging 0',
    'ContactInfo torfleet test network',
    `GeoIPFile ${geoipFile}`,
    'GeoIPv6File ""',
    `ServerDNSResolvConfFile ${path.join(dir, 'resolv.conf')}`,
    'ServerDNSDetectHijacking 0',
    'ServerDNSAllowBrokenConfig 1',
    ...authorities.map((line) => `DirAuthority ${line}`),
  ];
  if (node.role === 'authority') {
    lines.push(
      'AuthoritativeDirectory 1',
      'V3AuthoritativeDirectory 1',
      `DirPort ${node.address}:${node.dirPort ?? 0}`,
      'TestingV3AuthInitialVotingInterval 5',
      'TestingV3AuthInitialVoteDelay 2',
      'TestingV3AuthInitialDistDelay 2',
      'V3AuthVotingInterval 10',
      'V3AuthVoteDelay 2',
      'V3AuthDistDelay 2',
      'ExitRelay 0',
      'ExitPolicy reject *:*',
    );
  } else if (node.role === 'middle') {
    lines.push('ExitRelay 0', 'ExitPolicy reject *:*');
  } else {
    lines.push(
      'ExitRelay 1',
      'ExitPolicyRejectPrivate 0',
      'ExitPolicyRejectLocalInterfaces 0',
      'ExitPolicy accept 127.0.0.0/8:*',
      'ExitPolicy accept *:*',
      `OutboundBindAddress ${node.address}`,
      `OutboundBindAddressExit ${node.address}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** The C source lives beside this file in the source tree; the compiled module runs from dist/. */
function sourceDir(): string {
  return HERE.replace(`${path.sep}dist${path.sep}`, path.sep);
}
