/**
 * The tors of the packing bench: a shared tor (templates/shared-torrc.tmpl) and separate tors, one per proxy
 * (templates/torrc.tmpl), both rendered by torfleet's own renderers and started the way the process runtime
 * starts them (`tor -f TORRC --defaults-torrc /dev/null`). Every tor joins the private loopback network given
 * (its DirAuthority lines and TestingTorNetwork 1): none reaches the public Tor network. Every process started
 * here is recorded and ended by pid (`stopAll`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { TorSettings } from '../../reconciler/src/fleet/fleet-types.js';
import { packagePath } from '../../reconciler/src/package-root.js';
import type { ProxySpec } from '../../reconciler/src/plan/plan-types.js';
import { buildSharedTorSpec } from '../../reconciler/src/plan/shared-tor-spec.js';
import { TEST_TOR, testPool } from '../../reconciler/src/testing/fleet-fixtures.js';
import type { ExitRelay, PrivateTorNetwork } from '../../reconciler/src/tor-network/private-tor-network.js';
import { renderSharedTorrc } from '../../reconciler/src/torrc/render-shared-torrc.js';
import { renderTorrc } from '../../reconciler/src/torrc/render-torrc.js';
import { waitFor } from '../../reconciler/src/wait-for.js';

const SHARED_TEMPLATE = readFileSync(packagePath('templates', 'shared-torrc.tmpl'), 'utf8');
const PROXY_TEMPLATE = readFileSync(packagePath('templates', 'torrc.tmpl'), 'utf8');

const started = new Set<ChildProcess>();

export function networkTor(network: PrivateTorNetwork): TorSettings {
  return { ...TEST_TOR, dirAuthorities: network.dirAuthorities, testingNetwork: true, disableNetwork: false };
}

export interface RunningTor {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly dataDirectory: string;
  stop(): Promise<void>;
}

function startTor(torrcFile: string, dataDirectory: string): RunningTor {
  const child = spawn('tor', ['-f', torrcFile, '--defaults-torrc', '/dev/null'], { stdio: 'ignore' });
  started.add(child);
  child.once('exit', () => started.delete(child));
  return { child, pid: child.pid ?? 0, dataDirectory, stop: () => stopProcess(child) };
}

/** A shared tor of pool `bench` (no SocksPort: its controller adds them), data directory `<dir>/<name>`. */
export function startSharedTor(dir: string, name: string, network: PrivateTorNetwork): RunningTor {
  const dataDirectory = path.join(dir, name);
  mkdirSync(dataDirectory, { recursive: true, mode: 0o700 });
  const pool = testPool('bench', { count: 1000, packing: { proxiesPerTor: 1000 } });
  const spec = buildSharedTorSpec(pool, Number(/\d+$/.exec(name)?.[0] ?? 0), networkTor(network), 'bench', []);
  const torrc = path.join(dir, `${name}.torrc`);
  writeFileSync(torrc, renderSharedTorrc(SHARED_TEMPLATE, spec, { dataDirectory }));
  return startTor(torrc, dataDirectory);
}

/** A strict proxy with a tor of its own on 127.0.0.1:`port`, pinned to `exit`, as the process runtime runs one. */
export function startSeparateTor(
  dir: string,
  index: number,
  port: number,
  exit: ExitRelay,
  network: PrivateTorNetwork,
): RunningTor {
  const name = `sep-${index}`;
  const dataDirectory = path.join(dir, name);
  mkdirSync(dataDirectory, { recursive: true, mode: 0o700 });
  const spec: ProxySpec = {
    name,
    pool: 'sep',
    index,
    geo: [exit.country],
    exclude: [],
    geoCategory: exit.country === 'US' ? 'US' : 'NON_US',
    mode: 'strict',
    bind: '127.0.0.1',
    port,
    exits: { fingerprints: [exit.fingerprint], addresses: [exit.address], countries: [exit.country], network: null },
    rotateEverySeconds: null,
    placement: { constraints: [] },
    tor: networkTor(network),
    packing: null,
    specHash: 'bench',
  };
  const torrc = path.join(dir, `${name}.torrc`);
  writeFileSync(
    torrc,
    renderTorrc(PROXY_TEMPLATE, spec, {
      dataDirectory,
      controlSocket: path.join(dataDirectory, 'control'),
      geoipFile: null,
    }),
  );
  return startTor(torrc, dataDirectory);
}

/** Resolves once the shared tor's ControlSocket and cookie exist (its controller can connect). */
export async function controlReady(tor: RunningTor): Promise<void> {
  await waitFor(
    'the shared tor control socket and cookie',
    () => ['control', 'control_auth_cookie'].every((file) => existsSync(path.join(tor.dataDirectory, file))),
    30_000,
  );
}

export interface ProcMemory {
  /** VmRSS and RssAnon of /proc/PID/status, in KiB. */
  readonly vmRssKb: number;
  readonly rssAnonKb: number;
  /**
   * Pss of /proc/PID/smaps_rollup, in KiB: its resident pages, each shared one divided by the processes sharing it
   * (the tor binary's and libraries' pages): the processes' Pss add up to what they cost the host, VmRSS does not.
   */
  readonly pssKb: number;
}

export function procMemory(pid: number): ProcMemory {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const pss = Number(/^Pss:\s+(\d+) kB/m.exec(rollup)?.[1] ?? NaN);
  return { vmRssKb: kb('VmRSS'), rssAnonKb: kb('RssAnon'), pssKb: pss };
}

/** User + system CPU time of a process so far, in ms (/proc/PID/stat, clock ticks of 10 ms). */
export function procCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

/** Ends every process this module started that still runs, by its pid. */
export async function stopAll(): Promise<void> {
  await Promise.all([...started].map(stopProcess));
}
