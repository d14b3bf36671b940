import { chown, mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * A proxy's files on the host: `<stateDir>/proxies/<name>/torrc` and its tor data directory
 * `<stateDir>/proxies/<name>/data`, which outlives container replacement (tor keeps its guards and
 * cached directory there) and is deleted only when the proxy leaves the fleet.
 */
export class ProxyFiles {
  constructor(
    private readonly stateDir: string,
    /** The uid:gid tor runs as (the image's user), owner of the data directory. */
    private readonly owner: { uid: number; gid: number } | null,
  ) {}

  dir(name: string): string {
    return path.join(this.stateDir, 'proxies', name);
  }

  torrcFile(name: string): string {
    return path.join(this.dir(name), 'torrc');
  }

  dataDir(name: string): string {
    return path.join(this.dir(name), 'data');
  }

  /** Writes the torrc (world-readable: tor runs as another user) and makes sure the data directory exists. */
  async prepare(name: string, torrc: string): Promise<void> {
    await mkdir(this.dataDir(name), { recursive: true, mode: 0o700 });
    if (this.owner) await chown(this.dataDir(name), this.owner.uid, this.owner.gid);
    await writeFile(this.torrcFile(name), torrc, { mode: 0o644 });
  }

  async forget(name: string): Promise<void> {
    await rm(this.dir(name), { recursive: true, force: true });
  }
}
