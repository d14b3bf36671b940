import { existsSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../errors.js';
import { fileKind } from './file-kind.js';
import { isSystemPath } from './system-paths.js';

/**
 * Refuses a database path SQLite must not be pointed at, before anything creates a directory or opens it:
 * anything under /proc, /sys or /dev (directly or through a symbolic link; creating directories there makes
 * Node's mkdirSync spin at 100% CPU), an existing path that is not a regular file (a directory, a FIFO, a device),
 * and a path through something that is not a directory. `:memory:` is SQLite's in-memory database and is fine.
 * `setting` names where the path came from, for the message.
 */
export function assertUsableDbPath(file: string, setting = 'TORFLEET_DB'): void {
  if (file === ':memory:') return;
  const refuse = (why: string): never => {
    throw new ConfigError(`${setting} ${file}: ${why}; set ${setting} to a file path on a local disk`);
  };
  if (file.trim() === '') refuse('the path is empty');
  const absolute = path.resolve(file);
  if (isSystemPath(absolute)) refuse('it is under /proc, /sys or /dev, where no database can live');
  // The deepest part of the path that exists, with its links resolved: where the file would really be.
  let existing = absolute;
  while (!existsSync(existing)) existing = path.dirname(existing);
  const real = path.join(realpathSync(existing), path.relative(existing, absolute));
  if (isSystemPath(real)) refuse(`it leads to ${real}, under /proc, /sys or /dev, where no database can live`);
  const stats = statSync(existing);
  if (existing === absolute) {
    if (!stats.isFile()) refuse(`it exists and is ${fileKind(stats)}`);
  } else if (!stats.isDirectory()) {
    refuse(`${existing} is not a directory`);
  }
}
