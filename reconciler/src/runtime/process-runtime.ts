import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { TorfleetError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import type { ObservedProxy, ProxySpec } from '../plan/plan-types.js';
import type { TorrcPaths } from '../torrc/render-torrc.js';
import { writeFileAtomic } from './atomic-write.js';
import { IgnoredObjects, type IgnoredObject } from './ignored-objects.js';
import { invalidLabel } from './label-check.js';
import { mapContainer } from './map-container.js';
import { ProxyFiles } from './proxy-files.js';
import { PROXY_NAME } from './proxy-paths.js';
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
  private readonly skipped: IgnoredObjects;

  constructor(private readonly options: ProcessRuntimeOptions) {
    this.files = new ProxyFiles(options.stateDir, null);
    this.log = options.log ?? silentLogger;
    this.skipped = new IgnoredObjects(this.log, this.name);
  }

  async list(): Promise<ObservedProxy[]> {
    const root = path.join(this.options.stateDir, 'proxies');
    if (!existsSync(root)) return [];
    const observed: ObservedProxy[] = [];
    const ignored: IgnoredObject[] = [];
    for (const name of await readdir(root)) {
      const where = path.join(root, name);
      const record = await this.record(where);
      if (typeof record === 'string') {
        ignored.push({ id: where, reason: record });
        continue;
      }
      if (!record) {
        if (!PROXY_NAME.test(name)) ignored.push({ id: where, reason: 'not a proxy directory (POOL-INDEX)' });
        continue;
      }
      if (record.labels[LABEL.instance] !== this.options.instance) continue;
      const invalid =
        invalidLabel(record.labels) ??
        (record.labels[LABEL.proxy] === name ? undefined : `${LABEL.proxy} does not name its directory ${name}`);
      if (invalid) {
        ignored.push({ id: where, reason: `process.json: ${invalid}` });
        continue;
      }
      const alive = this.isOurTor(name, record.pid);
      const proxy = mapContainer({
        Id: `process:${record.pid}`,
        Labels: record.labels,
        State: alive ? 'running' : 'exited',
      });
      if (proxy) observed.push({ ...proxy, startedAt: record.startedAt });
    }
    this.skipped.record(ignored);
    return observed;
  }

  ignored(): readonly IgnoredObject[] {
    return this.skipped.current();
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
    await writeFileAtomic(this.files.paths(spec.name).recordFile, `${JSON.stringify(record, null, 2)}\n`);
    this.log.info('proxy process started', { proxy: spec.name, pid, revision });
    const observed = mapContainer({ Id: `process:${pid}`, Labels: record.labels, State: 'running' });
    if (!observed)
      throw new TorfleetError('RUNTIME', 'generic', `proxy ${spec.name}: its process record is incomplete`);
    return { ...observed, startedAt: record.startedAt };
  }

  async remove(proxy: ObservedProxy, { forget }: { forget: boolean }): Promise<void> {
    const record = await this.record(this.files.dir(proxy.name));
    if (typeof record === 'object' && `process:${record.pid}` === proxy.id && this.isOurTor(proxy.name, record.pid)) {
      await stopProcess(record.pid);
      this.log.info('proxy process stopped', { proxy: proxy.name, pid: record.pid });
    }
    if (forget) await this.files.forget(proxy.name);
    else await rm(this.files.paths(proxy.name).recordFile, { force: true });
  }

  /** The record in a proxy directory; undefined when there is none, or why it cannot be read. */
  private async record(dir: string): Promise<ProcessRecord | string | undefined> {
    let text: string;
    try {
      text = await readFile(path.join(dir, 'process.json'), 'utf8');
    } catch {
      return undefined;
    }
    return parseRecord(text);
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

/** A record's text → the record, or why it is not one. */
function parseRecord(text: string): ProcessRecord | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'process.json is not JSON';
  }
  const record = value as Partial<ProcessRecord> | null;
  if (typeof record !== 'object' || record === null) return 'process.json is not an object';
  if (!Number.isSafeInteger(record.pid) || (record.pid ?? 0) <= 0) return 'process.json: pid is not a process id';
  if (typeof record.startedAt !== 'string') return 'process.json: startedAt is not a time';
  const labels = record.labels as unknown;
  if (typeof labels !== 'object' || labels === null || Object.values(labels).some((v) => typeof v !== 'string'))
    return 'process.json: labels are not strings';
  return record as ProcessRecord;
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
