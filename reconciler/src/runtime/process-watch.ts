import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import { readRecord } from './process-record.js';
import { PROXY_UNIT, SHARED_TOR_UNIT, torUnitPaths } from './tor-unit-paths.js';
import { LABEL, type RuntimeEvent } from './proxy-runtime.js';
import { torsByTorrc } from './tor-processes.js';

export const DEFAULT_PROCESS_WATCH_MS = 2000;

/**
 * The process runtime's events: every `intervalMs`, this instance's proxies and shared tors whose record names
 * a pid but which have no tor running (looked up in /proc by their torrc, as `list()` does) are reported as
 * `exited` (a shared tor's with `proxy: null`), once per recorded pid: also a tor that died before a look ever
 * saw it. Reads only: adopting and stopping tors is left to the pass.
 */
export function watchTorProcesses(
  stateDir: string,
  instance: string,
  onEvent: (event: RuntimeEvent) => void,
  log: Logger,
  intervalMs = DEFAULT_PROCESS_WATCH_MS,
): () => void {
  /** Unit directory → the recorded pid already reported as exited. */
  let reported = new Map<string, number>();
  let looking = false;
  const look = async (): Promise<void> => {
    if (looking) return;
    looking = true;
    try {
      const exited = await exitedUnits(stateDir, instance);
      for (const [dir, { pid, proxy }] of exited) if (reported.get(dir) !== pid) onEvent({ action: 'exited', proxy });
      reported = new Map([...exited].map(([dir, { pid }]) => [dir, pid]));
    } catch (error) {
      log.warn('cannot look for exited tor processes; trying again', { error: errorMessage(error) });
    } finally {
      looking = false;
    }
  };
  void look();
  const timer = setInterval(() => void look(), intervalMs);
  return () => {
    clearInterval(timer);
  };
}

/**
 * This instance's proxies and shared tors (by their records) with a recorded pid and no live tor started with
 * their torrc, by directory: the pid, and the proxy's name (null for a shared tor).
 */
async function exitedUnits(
  stateDir: string,
  instance: string,
): Promise<Map<string, { pid: number; proxy: string | null }>> {
  const found = new Map<string, { pid: number; proxy: string | null }>();
  const tors = torsByTorrc();
  for (const kind of [PROXY_UNIT, SHARED_TOR_UNIT]) {
    const root = path.resolve(stateDir, kind.directory);
    if (!existsSync(root)) continue;
    for (const name of await readdir(root)) {
      if (!kind.namePattern.test(name)) continue; // list() reports it as ignored
      const paths = torUnitPaths(stateDir, kind, name);
      const record = await readRecord(paths.recordFile);
      if (typeof record !== 'object' || record.pid === null || record.labels[LABEL.instance] !== instance) continue;
      if ((tors.get(paths.torrcFile)?.length ?? 0) === 0)
        found.set(paths.dir, { pid: record.pid, proxy: kind === PROXY_UNIT ? name : null });
    }
  }
  return found;
}
