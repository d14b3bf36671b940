import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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
 */
export interface PrivateTorNetwork {
  /** DirAuthority lines (without the keyword) for clients, such as the fleet's tor.dirAuthorities. */
  readonly dirAuthorities: readonly string[];
  /** A directory port's consensus URL (TORFLEET_CONSENSUS_URL). */
  readonly consensusUrl: string;
  /** The network's GeoIP file (TORFLEET_GEOIP_FILE, the fleet's tor.geoipFile). */
  readonly geoipFile: string;
  readonly exits: { readonly us: ExitRelay; readonly de: ExitRelay };
  /** `http://127.0.0.1:PORT/`: answers `{"IP": "<peer address>"}`. */
  readonly echoUrl: string;
  /** Every process the network runs (tor nodes and the echo server), for stopping them by pid later. */
  readonly pids: readonly number[];
  stopExit(name: 'us' | 'de'): Promise<void>;
  stop(): Promise<void>;
}

export interface ExitRelay {
  readonly nickname: string;
  readonly address: string;
  readonly fingerprint: string;
}

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
}

export async function startPrivateTorNetwork(
  dir: string,
  basePort: number,
  options: NetworkOptions = {},
): Promise<PrivateTorNetwork> {
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
  ];
  const shim = path.join(dir, 'bind-shim.so');
  execFileSync('gcc', ['-shared', '-fPIC', '-O2', '-o', shim, path.join(sourceDir(), 'bind-shim.c'), '-ldl']);
  const geoipFile = path.join(dir, 'geoip');
  const range = (ip: string, country: string): string => `${ipv4ToNumber(ip) ?? 0},${ipv4ToNumber(ip) ?? 0},${country}`;
  writeFileSync(geoipFile, `# torfleet test GeoIP\n${range('127.0.0.11', 'US')}\n${range('127.0.0.12', 'DE')}\n`);
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
  for (const node of nodes) {
    const torrc = path.join(dir, `${node.name}.torrc`);
    writeFileSync(torrc, torrcOf(node, dir, authorities, geoipFile));
    const env =
      node.role === 'exit' ? { ...process.env, LD_PRELOAD: shim, TORFLEET_BIND_ADDRESS: node.address } : process.env;
    start(node.name, 'tor', ['-f', torrc, '--defaults-torrc', '/dev/null'], env);
  }
  const consensusUrl = `http://127.0.0.1:${basePort + 11}/tor/status-vote/current/consensus`;
  const exitFingerprints = [fingerprints.get('exitus'), fingerprints.get('exitde')];
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
    exits: {
      us: { nickname: 'exitus', address: '127.0.0.11', fingerprint: fingerprints.get('exitus') ?? '' },
      de: { nickname: 'exitde', address: '127.0.0.12', fingerprint: fingerprints.get('exitde') ?? '' },
    },
    echoUrl: `http://127.0.0.1:${echoPort}/`,
    pids: [...processes.values()].map((child) => child.pid ?? 0),
    stopExit: (name) => stopProcess(processes.get(name === 'us' ? 'exitus' : 'exitde')),
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
      'a consensus with both exits, at the authorities and at each exit',
      async () => {
        const text = await fetch(consensusUrl).then(
          (r) => (r.ok ? r.text() : ''),
          () => '',
        );
        const listsBoth = (consensus: string): boolean =>
          exitFingerprints.every((fp) => fp && consensusHasExit(consensus, fp));
        return listsBoth(text) && ['exitus', 'exitde'].every((exit) => cachedConsensuses(dir, exit).some(listsBoth))
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
