import { chown, lstat, mkdir, rm } from 'node:fs/promises';
import { TorfleetError } from '../errors.js';
import { writeFileAtomic } from './atomic-write.js';
import { torUnitPaths, type TorUnitKind, type TorUnitPaths } from './tor-unit-paths.js';

/**
 * The files of one kind of tor unit on the host (proxies, shared tors): `<stateDir>/<kind>/<name>/torrc` and
 * its tor data directory `<stateDir>/<kind>/<name>/data`, which outlives container replacement (tor keeps its
 * guards and cached directory there) and is deleted only when the unit leaves the fleet. Every path comes
 * from torUnitPaths (a checked name, inside the state dir); a unit directory that is a symlink is refused.
 */
export class TorUnitFiles {
  constructor(
    private readonly stateDir: string,
    readonly kind: TorUnitKind,
    /** The uid:gid tor runs as (the image's user), owner of the data directory. */
    private readonly owner: { uid: number; gid: number } | null,
  ) {}

  paths(name: string): TorUnitPaths {
    return torUnitPaths(this.stateDir, this.kind, name);
  }

  torrcFile(name: string): string {
    return this.paths(name).torrcFile;
  }

  dataDir(name: string): string {
    return this.paths(name).dataDir;
  }

  /** Writes the torrc (world-readable: tor runs as another user) and makes sure the data directory exists. */
  async prepare(name: string, torrc: string): Promise<void> {
    const paths = this.paths(name);
    await refuseSymlink(paths.dir);
    await mkdir(paths.dataDir, { recursive: true, mode: 0o700 });
    if (this.owner) await chown(paths.dataDir, this.owner.uid, this.owner.gid);
    await writeFileAtomic(paths.torrcFile, torrc, 0o644);
  }

  async forget(name: string): Promise<void> {
    const { dir } = this.paths(name);
    await refuseSymlink(dir);
    await rm(dir, { recursive: true, force: true });
  }
}

/** A unit directory replaced by a symlink would point writes and deletions anywhere. */
async function refuseSymlink(dir: string): Promise<void> {
  const stat = await lstat(dir).catch(() => undefined);
  if (stat && !stat.isDirectory()) {
    throw new TorfleetError(
      'RUNTIME',
      'stalled',
      `refusing to use ${dir}: it is not a plain directory (a symlink?); remove it so torfleet can recreate it`,
    );
  }
}
