import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { TorfleetError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import type { ObservedProxy, ProxySpec } from '../plan/plan-types.js';
import type { TorrcPaths } from '../torrc/render-torrc.js';
import { mapContainer } from './map-container.js';
import { ProxyFiles } from './proxy-files.js';
import { LABEL, proxyLabels, type ProxyRuntime } from './proxy-runtime.js';

export interface ProcessRuntimeOptions {
  readonly stateDir: string;
  readonly instance: string;
  readonly torBinary?: string;
  readonly log?: Logger;
}

/** What a proxy's directory records about its tor process: the same labels a container carries. */
interface ProcessRecord {
  readonly pid: number;
  readonly startedAt: string;
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * Proxies as tor processes started directly, for machines without a Docker engine. Each runs detached
 * (it outlives the reconciler) from `<stateDir>/proxies/<name>/torrc`; `process.json` beside it records
 * its pid and labels, so a restarted reconciler adopts it. A pid is trusted only while /proc says it is
 * still tor reading that torrc: a reused pid is never signalled.
 */
export class ProcessRuntime implements ProxyRuntime {
  readonly name = 'process';
  private readonly files: ProxyFiles;
  private readonly log: Logger;

  constructor(private readonly options: ProcessRuntimeOptions) {
    this.files = new ProxyFiles(options.stateDir, null);
    this.log = options.log ?? silentLogger;
  }

  async list(): Promise<ObservedProxy[]> {
    const root = path.join(this.options.stateDir, 'proxies');
    if (!existsSync(root)) return [];
    const observed: ObservedProxy[] = [];
    for (const name of await readdir(root)) {
      const record = await this.record(name);
      if (!record || record.labels[LABEL.instance] !== this.options.instance) continue;
      const alive = this.isOurTor(name, record.pid);
      const proxy = mapContainer({
        Id: `process:${record.pid}`,
        Labels: record.labels,
        State: alive ? 'running' : 'exited',
      });
      if (proxy) observed.push({ ...proxy, startedAt: record.startedAt });
    }
    return observed;
  }

  hostDataDirectory(proxy: string): string {
    return this.files.dataDir(proxy);
  }

  torrcPaths(spec: ProxySpec): TorrcPaths {
    return {
      dataDirectory: this.files.dataDir(spec.name),
      controlSocket: path.join(this.files.dataDir(spec.name), 'control'),
      geoipFile: spec.tor.geoipFile,
    };
  }

  preflight(): Promise<void> {
    return Promise.resolve();
  }

  async create(spec: ProxySpec, torrc: string, revision: string): Promise<ObservedProxy> {
    await this.files.prepare(spec.name, torrc);
    const logFile = openSync(path.join(this.files.dir(spec.name), 'tor.log'), 'a');
    const child = spawn(
      this.options.torBinary ?? 'tor',
      ['-f', this.files.torrcFile(spec.name), '--defaults-torrc', '/dev/null'],
      {
        detached: true,
        stdio: ['ignore', logFile, logFile],
      },
    );
    closeSync(logFile);
    const pid = await new Promise<number>((resolve, reject) => {
      child.once('error', (error) => {
        reject(
          new TorfleetError(
            'RUNTIME',
            'stalled',
            `cannot start tor for ${spec.name}; is tor installed (apt-get install tor)?`,
            { cause: error },
          ),
        );
      });
      child.once('spawn', () => {
        resolve(child.pid ?? 0);
      });
    });
    child.unref();
    const record: ProcessRecord = {
      pid,
      startedAt: new Date().toISOString(),
      labels: proxyLabels(spec, this.options.instance, revision),
    };
    await writeFile(this.recordFile(spec.name), `${JSON.stringify(record, null, 2)}\n`);
    this.log.info('proxy process started', { proxy: spec.name, pid, revision });
    const observed = mapContainer({ Id: `process:${pid}`, Labels: record.labels, State: 'running' });
    if (!observed)
      throw new TorfleetError('RUNTIME', 'generic', `proxy ${spec.name}: its process record is incomplete`);
    return { ...observed, startedAt: record.startedAt };
  }

  async remove(proxy: ObservedProxy, { forget }: { forget: boolean }): Promise<void> {
    const record = await this.record(proxy.name);
    if (record && `process:${record.pid}` === proxy.id && this.isOurTor(proxy.name, record.pid)) {
      await stopProcess(record.pid);
      this.log.info('proxy process stopped', { proxy: proxy.name, pid: record.pid });
    }
    if (forget) await this.files.forget(proxy.name);
    else await rm(this.recordFile(proxy.name), { force: true });
  }

  private recordFile(name: string): string {
    return path.join(this.files.dir(name), 'process.json');
  }

  private async record(name: string): Promise<ProcessRecord | undefined> {
    try {
      return JSON.parse(await readFile(this.recordFile(name), 'utf8')) as ProcessRecord;
    } catch {
      return undefined;
    }
  }

  /** True when `pid` is alive and is tor started with this proxy's torrc (not a reused pid). */
  private isOurTor(name: string, pid: number): boolean {
    try {
      const argv = readText(`/proc/${pid}/cmdline`).split('\0');
      const state = readText(`/proc/${pid}/stat`).split(') ')[1]?.[0];
      return state !== 'Z' && argv.includes(this.files.torrcFile(name));
    } catch {
      return false;
    }
  }
}

/** SIGTERM, then SIGKILL if tor has not exited after 5 s. */
async function stopProcess(pid: number): Promise<void> {
  const alive = (): boolean => {
    try {
      process.kill(pid, 0);
      return !readText(`/proc/${pid}/stat`).split(') ')[1]?.startsWith('Z');
    } catch {
      return false;
    }
  };
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  for (let i = 0; i < 50 && alive(); i++) await new Promise((resolve) => setTimeout(resolve, 100));
  if (alive()) process.kill(pid, 'SIGKILL');
}

function readText(file: string): string {
  return readFileSync(file, 'utf8');
}
