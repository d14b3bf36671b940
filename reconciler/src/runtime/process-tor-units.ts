import { existsSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { TorfleetError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { TorrcPaths } from '../torrc/render-torrc.js';
import { isExecutable } from './find-executable.js';
import type { IgnoredObject } from './ignored-objects.js';
import { LABEL } from './proxy-runtime.js';
import { readRecord, writeRecord, type ProcessRecord } from './process-record.js';
import { spawnTor, torMissing } from './spawn-tor.js';
import { lockHolder, stopProcess, torsByTorrc, torsUsing } from './tor-processes.js';
import { TorUnitFiles } from './tor-unit-files.js';
import type { TorUnitKind, TorUnitPaths } from './tor-unit-paths.js';

export interface ProcessTorUnitsOptions {
  readonly stateDir: string;
  readonly instance: string;
  readonly torBinary?: string;
  readonly log: Logger;
  /** How long starting or stopping one tor may take (TORFLEET_RUNTIME_TIMEOUT). */
  readonly timeoutMs: number;
}

/** One unit's record as list() found it, with its tor's state. */
export interface ProcessUnit {
  readonly name: string;
  readonly record: ProcessRecord;
  /** `process:<pid>`, the recorded pid when none runs, or `process:none`. */
  readonly id: string;
  readonly state: 'running' | 'exited';
}

/**
 * One kind of tor unit (proxies, shared tors) as tor processes started directly. Each runs detached (it
 * outlives the reconciler) from `<stateDir>/<kind>/<name>/torrc`; `process.json` beside it records its pid
 * and labels, so a restarted reconciler adopts it. Invariant: at most one tor runs per torrc. A unit's tor is
 * found from /proc by its torrc, never by a recorded pid alone, so a reused pid is never adopted or
 * signalled, and a tor started just before a kill -9 (its pid not yet recorded) is adopted, or stopped
 * before another is started in its data directory.
 */
export class ProcessTorUnits {
  readonly files: TorUnitFiles;

  constructor(
    readonly kind: TorUnitKind,
    private readonly options: ProcessTorUnitsOptions,
  ) {
    this.files = new TorUnitFiles(options.stateDir, kind, null);
  }

  /**
   * This instance's units by their records, their tors adopted; the directories and records that cannot be
   * trusted (`invalidLabel` of the kind, or a name label that is not its directory's) are skipped, not touched.
   */
  async list(
    invalidLabel: (labels: Readonly<Record<string, string>>) => string | undefined,
  ): Promise<{ units: ProcessUnit[]; ignored: IgnoredObject[] }> {
    const units: ProcessUnit[] = [];
    const ignored: IgnoredObject[] = [];
    const root = path.join(this.options.stateDir, this.kind.directory);
    if (!existsSync(root)) return { units, ignored };
    const tors = torsByTorrc();
    const { label } = this.kind;
    for (const name of await readdir(root)) {
      const where = path.join(root, name);
      const record = await readRecord(path.join(where, 'process.json'));
      if (typeof record === 'string') {
        ignored.push({ id: where, reason: record });
        continue;
      }
      if (!record) {
        if (!this.kind.namePattern.test(name))
          ignored.push({ id: where, reason: `not a ${this.kind.what} directory (${this.kind.shape})` });
        continue;
      }
      if (record.labels[LABEL.instance] !== this.options.instance) continue;
      const invalid =
        invalidLabel(record.labels) ??
        (record.labels[label] === name ? undefined : `${label} does not name its directory ${name}`);
      if (invalid) {
        ignored.push({ id: where, reason: `process.json: ${invalid}` });
        continue;
      }
      const paths = this.files.paths(name);
      const pid = await this.adopt(name, paths, record, tors.get(paths.torrcFile) ?? []);
      const id = `process:${pid ?? record.pid ?? 'none'}`;
      units.push({ name, record, id, state: pid === undefined ? 'exited' : 'running' });
    }
    return { units, ignored };
  }

  /** Paths as its tor sees them: host paths (the tor runs on this host). */
  torrcPaths(name: string, geoipFile: string | null): TorrcPaths {
    const dataDirectory = this.files.dataDir(name);
    return { dataDirectory, controlSocket: path.join(dataDirectory, 'control'), geoipFile };
  }

  /** A tor that cannot start must not cost a replacement its running unit: checked before anything is removed. */
  async preflight(name: string): Promise<void> {
    const binary = this.binary();
    if (await isExecutable(binary)) return;
    throw torMissing(name, binary);
  }

  /** Writes its files, stops any tor left on its torrc, starts its tor and records it; its pid once it runs. */
  async launch(
    name: string,
    torrc: string,
    labels: Readonly<Record<string, string>>,
  ): Promise<{ pid: number; startedAt: string }> {
    const paths = this.files.paths(name);
    await this.files.prepare(name, torrc);
    // A tor left by a reconciler killed before it recorded it holds the data directory lock: a second tor
    // would exit at once ("another Tor process is running with the same data directory").
    await this.stopTors(name, paths, `stopped a tor of this ${this.kind.what} that torfleet had not recorded`);
    const startedAt = new Date().toISOString();
    await writeRecord(paths.recordFile, { pid: null, startedAt, labels });
    const pid = await spawnTor(this.binary(), name, paths, this.options.timeoutMs);
    await writeRecord(paths.recordFile, { pid, startedAt, labels });
    this.options.log.info(`${this.kind.what} process started`, { [this.kind.logField]: name, pid });
    return { pid, startedAt };
  }

  /**
   * Stops its tor; `forget` deletes its files, else only its record goes (its data directory is kept). A record
   * whose labels `refusal` objects to is left with its tor (a RUNTIME_CONFLICT error names it); a directory
   * without a record is this unit's by its checked path.
   */
  async remove(
    name: string,
    forget: boolean,
    refusal: (labels: Readonly<Record<string, string>>) => string | undefined,
  ): Promise<void> {
    const paths = this.files.paths(name);
    const record = await readRecord(paths.recordFile);
    const why = typeof record === 'string' ? record : record && refusal(record.labels);
    if (why) throw new TorfleetError('RUNTIME_CONFLICT', 'stalled', `refusing to remove ${paths.dir}: ${why}`);
    await this.stopTors(name, paths, `${this.kind.what} process stopped`);
    if (forget) await this.files.forget(name);
    else await rm(paths.recordFile, { force: true });
  }

  /**
   * The pid of the unit's tor among the live processes started with its torrc: the one holding its data
   * directory lock, else the recorded one, else the oldest. A pid that differs from the record is written
   * back (adopted): the reconciler that started it was killed before it could record it.
   */
  private async adopt(
    name: string,
    paths: TorUnitPaths,
    record: ProcessRecord,
    pids: readonly number[],
  ): Promise<number | undefined> {
    if (pids.length === 0) return undefined;
    const recorded = record.pid !== null && pids.includes(record.pid) ? record.pid : undefined;
    const pid =
      (pids.length > 1 ? lockHolder(path.join(paths.dataDir, 'lock'), pids) : undefined) ?? recorded ?? pids[0];
    if (pid !== undefined && pid !== record.pid) {
      await writeRecord(paths.recordFile, { ...record, pid });
      this.options.log.warn('adopted a running tor that torfleet had not recorded', {
        [this.kind.logField]: name,
        pid,
      });
    }
    return pid;
  }

  /** Stops every tor started with the unit's torrc (recorded or not), waiting until each is gone. */
  private async stopTors(name: string, paths: TorUnitPaths, message: string): Promise<void> {
    for (const pid of torsUsing(paths.torrcFile)) {
      await stopProcess(pid, this.options.timeoutMs / 2);
      this.options.log.info(message, { [this.kind.logField]: name, pid });
    }
  }

  private binary(): string {
    return this.options.torBinary ?? 'tor';
  }
}
