import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import path from 'node:path';
import { TorfleetError } from '../errors.js';
import { withDeadline } from './deadline.js';
import type { TorUnitPaths } from './tor-unit-paths.js';

/**
 * Starts `binary -f <torrc>` detached (it outlives the reconciler), its output appended to `<dir>/tor.log`;
 * its pid once it runs. A tor that has not started within `timeoutMs` is killed: it would run unrecorded.
 */
export async function spawnTor(binary: string, name: string, paths: TorUnitPaths, timeoutMs: number): Promise<number> {
  const logFile = openSync(path.join(paths.dir, 'tor.log'), 'a');
  const child = spawn(binary, ['-f', paths.torrcFile, '--defaults-torrc', '/dev/null'], {
    detached: true,
    stdio: ['ignore', logFile, logFile],
  });
  closeSync(logFile);
  const pid = await withDeadline(
    timeoutMs,
    () =>
      new TorfleetError(
        'RUNTIME',
        'waiting',
        `starting tor for ${name} did not finish within ${String(timeoutMs / 1000)} s; check the machine's load (TORFLEET_RUNTIME_TIMEOUT)`,
      ),
    () =>
      new Promise<number>((resolve, reject) => {
        child.once('error', (error) => {
          reject(
            (error as NodeJS.ErrnoException).code === 'ENOENT'
              ? torMissing(name, binary, error)
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
    child.kill('SIGKILL');
    throw error;
  });
  child.unref();
  return pid;
}

/** TOR_MISSING (stalled: no pass helps until someone installs tor): `binary` is not there to start `name`'s tor. */
export function torMissing(name: string, binary: string, cause?: unknown): TorfleetError {
  return new TorfleetError(
    'TOR_MISSING',
    'stalled',
    `cannot start tor for ${name}: "${binary}" is not installed (apt-get install tor)`,
    { cause },
  );
}
