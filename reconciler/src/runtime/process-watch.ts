import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import { readRecord } from './process-record.js';
import { PROXY_NAME, proxyPaths } from './proxy-paths.js';
import { LABEL, type RuntimeEvent } from './proxy-runtime.js';
import { torsByTorrc } from './tor-processes.js';

export const DEFAULT_PROCESS_WATCH_MS = 2000;

/**
 * The process runtime's events: every `intervalMs`, this instance's proxies whose record names a pid but
 * which have no tor running (looked up in /proc by their torrc, as `list()` does) are reported as `exited`,
 * once per recorded pid: also a tor that died before a look ever saw it. Reads only: adopting and
 * stopping tors is left to the pass.
 */
export function watchTorProcesses(
  stateDir: string,
  instance: string,
  onEvent: (event: RuntimeEvent) => void,
  log: Logger,
  intervalMs = DEFAULT_PROCESS_WATCH_MS,
): () => void {
  /** Proxy → the recorded pid already reported as exited. */
  let reported = new Map<string, number>();
  let looking = false;
  const look = async (): Promise<void> => {
    if (looking) return;
    looking = true;
    try {
      const exited = await exitedProxies(stateDir, instance);
      for (const [proxy, pid] of exited) if (reported.get(proxy) !== pid) onEvent({ action: 'exited', proxy });
      reported = exited;
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

/** This instance's proxies (by their records) with a recorded pid and no live tor started with their torrc. */
async function exitedProxies(stateDir: string, instance: string): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  const root = path.resolve(stateDir, 'proxies');
  if (!existsSync(root)) return found;
  const tors = torsByTorrc();
  for (const name of await readdir(root)) {
    if (!PROXY_NAME.test(name)) continue; // list() reports it as ignored
    const paths = proxyPaths(stateDir, name);
    const record = await readRecord(paths.recordFile);
    if (typeof record !== 'object' || record.pid === null || record.labels[LABEL.instance] !== instance) continue;
    if ((tors.get(paths.torrcFile)?.length ?? 0) === 0) found.set(name, record.pid);
  }
  return found;
}
