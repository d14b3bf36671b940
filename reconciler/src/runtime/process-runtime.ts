import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { TorfleetError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import type { ObservedProxy, ProxySpec } from '../plan/plan-types.js';
import type { TorrcPaths } from '../torrc/render-torrc.js';
import { withDeadline } from './deadline.js';
import { isExecutable } from './find-executable.js';
import { IgnoredObjects, type IgnoredObject } from './ignored-objects.js';
import { invalidLabel } from './label-check.js';
import { mapContainer } from './map-container.js';
import { readRecord, writeRecord, type ProcessRecord } from './process-record.js';
import { ProxyFiles } from './proxy-files.js';
import { watchTorProcesses } from './process-watch.js';
import { PROXY_NAME, type ProxyPaths } from './proxy-paths.js';
import { LABEL, proxyLabels, type ProxyRuntime, type RuntimeEvent } from './proxy-runtime.js';
import { lockHolder, stopProcess, torsByTorrc, torsUsing } from './tor-processes.js';

export interface ProcessRuntimeOptions {
  readonly stateDir: string;
  readonly instance: string;
  readonly torBinary?: string;
  readonly log?: Logger;
  /** How long starting or stopping one tor may take (TORFLEET_RUNTIME_TIMEOUT). */
  readonly timeoutMs?: number;
  /** How often watch() looks for tors that exited (default 2 s). */
  readonly watchIntervalMs?: number;
}

/**
 * Proxies as tor processes started directly, for machines without a Docker engine. Each runs detached
 * (it outlives the reconciler) from `<stateDir>/proxies/<name>/torrc`; `process.json` beside it records
 * its pid and labels, so a restarted reconciler adopts it. Invariant: at most one tor runs per torrc.
 * The tor of a proxy is found from /proc by its torrc, never by a recorded pid alone, so a reused pid is
 * never adopted or signalled, and a tor started just before a kill -9 (its pid not yet recorded) is
 * adopted, or stopped before another is started in its data directory.
 */
export class ProcessRuntime implements ProxyRuntime {
  readonly name = 'process';
  private readonly files: ProxyFiles;
  private readonly log: Logger;
  private readonly skipped: IgnoredObjects;
  private readonly timeoutMs: number;

  constructor(private readonly options: ProcessRuntimeOptions) {
    this.files = new ProxyFiles(options.stateDir, null);
    this.log = options.log ?? silentLogger;
    this.skipped = new IgnoredObjects(this.log, this.name);
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  async list(): Promise<ObservedProxy[]> {
    const root = path.join(this.options.stateDir, 'proxies');
    if (!existsSync(root)) return [];
    const tors = torsByTorrc();
    const observed: ObservedProxy[] = [];
    const ignored: IgnoredObject[] = [];
    for (const name of await readdir(root)) {
      const where = path.join(root, name);
      const record = await readRecord(path.join(where, 'process.json'));
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
      const paths = this.files.paths(name);
      const pid = await this.adopt(paths, record, tors.get(paths.torrcFile) ?? []);
      const proxy = mapContainer({
        Id: `process:${pid ?? record.pid ?? 'none'}`,
        Labels: record.labels,
        State: pid === undefined ? 'exited' : 'running',
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

  /** A tor that cannot start must not cost a replacement its running proxy: checked before anything is removed. */
  async preflight(spec: ProxySpec): Promise<void> {
    const binary = this.options.torBinary ?? 'tor';
    if (await isExecutable(binary)) return;
    throw new TorfleetError(
      'TOR_MISSING',
      'stalled',
      `cannot start tor for ${spec.name}: "${binary}" is not installed (apt-get install tor)`,
    );
  }

  async create(spec: ProxySpec, torrc: string, revision: string): Promise<ObservedProxy> {
    const paths = this.files.paths(spec.name);
    await this.files.prepare(spec.name, torrc);
    // A tor left by a reconciler killed before it recorded it holds the data directory lock: a second tor
    // would exit at once ("another Tor process is running with the same data directory").
    await this.stopTors(spec.name, paths, 'stopped a tor of this proxy that torfleet had not recorded');
    const labels = proxyLabels(spec, this.options.instance, revision);
    const startedAt = new Date().toISOString();
    await writeRecord(paths.recordFile, { pid: null, startedAt, labels });
    const pid = await this.start(spec.name, paths);
    await writeRecord(paths.recordFile, { pid, startedAt, labels });
    this.log.info('proxy process started', { proxy: spec.name, pid, revision });
    const observed = mapContainer({ Id: `process:${pid}`, Labels: labels, State: 'running' });
    if (!observed)
      throw new TorfleetError('RUNTIME', 'generic', `proxy ${spec.name}: its process record is incomplete`);
    return { ...observed, startedAt };
  }

  async remove(proxy: ObservedProxy, { forget }: { forget: boolean }): Promise<void> {
    const paths = this.files.paths(proxy.name);
    await this.stopTors(proxy.name, paths, 'proxy process stopped');
    if (forget) await this.files.forget(proxy.name);
    else await rm(paths.recordFile, { force: true });
  }

  /** A proxy whose tor ran at the last look (every couple of seconds) and has exited: `exited`. */
  watch(onEvent: (event: RuntimeEvent) => void): () => void {
    return watchTorProcesses(
      this.options.stateDir,
      this.options.instance,
      onEvent,
      this.log,
      this.options.watchIntervalMs,
    );
  }

  /**
   * The pid of the proxy's tor among the live processes started with its torrc: the one holding its data
   * directory lock, else the recorded one, else the oldest. A pid that differs from the record is written
   * back (adopted): the reconciler that started it was killed before it could record it.
   */
  private async adopt(paths: ProxyPaths, record: ProcessRecord, pids: readonly number[]): Promise<number | undefined> {
    if (pids.length === 0) return undefined;
    const recorded = record.pid !== null && pids.includes(record.pid) ? record.pid : undefined;
    const pid =
      (pids.length > 1 ? lockHolder(path.join(paths.dataDir, 'lock'), pids) : undefined) ?? recorded ?? pids[0];
    if (pid !== undefined && pid !== record.pid) {
      await writeRecord(paths.recordFile, { ...record, pid });
      this.log.warn('adopted a running tor that torfleet had not recorded', {
        proxy: record.labels[LABEL.proxy],
        pid,
      });
    }
    return pid;
  }

  /** Stops every tor started with the proxy's torrc (recorded or not), waiting until each is gone. */
  private async stopTors(name: string, paths: ProxyPaths, message: string): Promise<void> {
    for (const pid of torsUsing(paths.torrcFile)) {
      await stopProcess(pid, this.timeoutMs / 2);
      this.log.info(message, { proxy: name, pid });
    }
  }

  private async start(name: string, paths: ProxyPaths): Promise<number> {
    const logFile = openSync(path.join(paths.dir, 'tor.log'), 'a');
    const binary = this.options.torBinary ?? 'tor';
    const child = spawn(binary, ['-f', paths.torrcFile, '--defaults-torrc', '/dev/null'], {
      detached: true,
      stdio: ['ignore', logFile, logFile],
    });
    closeSync(logFile);
    const pid = await withDeadline(
      this.timeoutMs,
      () =>
        new TorfleetError(
          'RUNTIME',
          'waiting',
          `starting tor for ${name} did not finish within ${String(this.timeoutMs / 1000)} s; check the machine's load (TORFLEET_RUNTIME_TIMEOUT)`,
        ),
      () =>
        new Promise<number>((resolve, reject) => {
          child.once('error', (error) => {
            reject(
              (error as NodeJS.ErrnoException).code === 'ENOENT'
                ? new TorfleetError(
                    'TOR_MISSING',
                    'stalled',
                    `cannot start tor for ${name}: "${binary}" is not installed (apt-get install tor)`,
                    { cause: error },
                  )
                : new TorfleetError('RUNTIME', 'generic', `cannot start tor for ${name} with ${binary}`, {
                    cause: error,
                  }),
            );
          });
          child.once('spawn', () => {
            resolve(child.pid ?? 0);
          });
        }),
    ).catch((error: unknown) => {
      child.kill('SIGKILL'); // a tor that starts after its deadline would run unrecorded
      throw error;
    });
    child.unref();
    return pid;
  }
}
