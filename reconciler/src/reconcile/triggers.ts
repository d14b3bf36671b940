import { existsSync } from 'node:fs';
import path from 'node:path';
import { watch } from 'chokidar';

/** Something that stops. Every watcher returns one; its runnable calls it when `run` stops. */
export type Stop = () => Promise<void> | void;

/**
 * A plain fleet file: fires on every change, including replacement by an editor's rename, a delete and
 * create, or a directory or FIFO put in its place. Its directory is watched (one level), not the file: a
 * watch on the file's own path went deaf for good once the file was deleted and created again.
 */
export function watchFile(file: string, fire: () => void): Stop {
  const target = path.resolve(file);
  const parent = path.dirname(target);
  const name = path.basename(target);
  const watcher = watch(parent, {
    ignoreInitial: true,
    depth: 0,
    // Called for every entry of the directory, several times each, at start and on each change there. One level
    // deep, an entry named as the file is the file: told by its name, not by resolving its path on every call
    // (which walked the whole path each time; with a dozen entries and a long path it was enough to get node's
    // path code optimized at start, 3-4 MB of V8's compiler paged in: cli/startup-compiler.ts). The directory
    // itself is resolved, however it is spelled; every entry inside it is longer than it.
    ignored: (candidate) => {
      if (path.basename(candidate) === name) return false;
      return candidate.length > parent.length + 1 || path.resolve(candidate) !== parent;
    },
    awaitWriteFinish: { stabilityThreshold: 50, pollInterval: 20 },
  });
  watcher.on('all', (_event, changed) => {
    if (path.resolve(changed) === target) fire();
  });
  return () => watcher.close();
}

/**
 * A repository on this machine: fires when a branch ref moves (a commit, a push into a bare repository),
 * so a commit is seen within about a second instead of at the next fetch.
 */
export function watchLocalRepository(repository: string, fire: () => void): Stop | undefined {
  const candidates = [
    path.join(repository, '.git', 'refs', 'heads'),
    path.join(repository, '.git', 'packed-refs'),
    path.join(repository, 'refs', 'heads'),
    path.join(repository, 'packed-refs'),
  ].filter((candidate) => existsSync(candidate));
  if (candidates.length === 0) return undefined;
  const watcher = watch(candidates, { ignoreInitial: true });
  watcher.on('all', fire);
  return () => watcher.close();
}
