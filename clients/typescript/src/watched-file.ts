import { readFileSync, statSync } from 'node:fs';
import { stat } from 'node:fs/promises';

/** What says a file changed: inode, size and times (ns), or null when it cannot be read. */
type FileKey = string | null;

function keyOf(stats: { ino: bigint; size: bigint; mtimeNs: bigint; ctimeNs: bigint }): string {
  return `${String(stats.ino)}:${String(stats.size)}:${String(stats.mtimeNs)}:${String(stats.ctimeNs)}`;
}

/**
 * A settings file (endpoints, token, CA) checked for changes by inode, size and times, as the Python client does
 * (every `watchInterval`): `changed()` is true once per change, after which the caller reads it again.
 */
export class WatchedFile {
  #key: FileKey;

  constructor(readonly path: string) {
    this.#key = WatchedFile.#keyNow(path);
  }

  /** The file's text now (throws when it cannot be read); the change seen so far is taken as read. */
  read(): string {
    this.#key = WatchedFile.#keyNow(this.path);
    return readFileSync(this.path, 'utf8');
  }

  readBytes(): Buffer {
    this.#key = WatchedFile.#keyNow(this.path);
    return readFileSync(this.path);
  }

  async changed(): Promise<boolean> {
    let key: FileKey;
    try {
      key = keyOf(await stat(this.path, { bigint: true }));
    } catch {
      key = null;
    }
    if (key === this.#key) return false;
    this.#key = key;
    return true;
  }

  static #keyNow(path: string): FileKey {
    try {
      return keyOf(statSync(path, { bigint: true }));
    } catch {
      return null;
    }
  }
}
