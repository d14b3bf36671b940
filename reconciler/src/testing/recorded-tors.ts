import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Ends the tors the process runtime started under `stateDir` (proxies and shared tors), by the pids their
 * records hold: they outlive `torfleet run` by design, so a test that ran it ends them itself.
 */
export function killRecordedTors(stateDir: string): void {
  for (const kind of ['proxies', 'shared-tors']) {
    const root = path.join(stateDir, kind);
    for (const name of existsSync(root) ? readdirSync(root) : []) {
      const record = path.join(root, name, 'process.json');
      if (!existsSync(record)) continue;
      try {
        process.kill((JSON.parse(readFileSync(record, 'utf8')) as { pid: number }).pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}
