import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { contentPath } from './content-path.js';

/** A fetch that grew past its limit: stopped there, nothing of it kept. */
export class SizeLimitError extends Error {
  constructor(readonly limit: number) {
    super(`the content is larger than the limit of ${String(limit)} bytes (TORFLEET_TORRENT_MAX_SIZE); stopped there`);
    this.name = 'SizeLimitError';
  }
}

export interface StoredContent {
  readonly sha256: string;
  readonly size: number;
  readonly path: string;
  /** False when the same bytes were stored already (this copy was dropped). */
  readonly fresh: boolean;
}

/**
 * Content by SHA-256 under `root` (`ab/cd/<hash>`), one copy per content. A stream is written to `root/tmp/` while
 * it is hashed and counted, never held in memory; a chunk that would take it past `maxBytes` is not written (the
 * file on disk never exceeds the limit) and the fetch fails; a finished file is renamed into place, or dropped when
 * that content is there already. Partial files are removed on any failure, and by `sweep()` at start.
 */
export class ContentStore {
  constructor(readonly root: string) {}

  async ingest(source: Readable, maxBytes: number, signal?: AbortSignal): Promise<StoredContent> {
    const tmpDir = path.join(this.root, 'tmp');
    await mkdir(tmpDir, { recursive: true });
    const partial = path.join(tmpDir, `${randomBytes(8).toString('hex')}.part`);
    const hash = createHash('sha256');
    let size = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        if (size + chunk.length > maxBytes) {
          done(new SizeLimitError(maxBytes));
          return;
        }
        size += chunk.length;
        hash.update(chunk);
        done(null, chunk);
      },
    });
    // The file is opened before the pipeline starts: a stream that opens it itself may still be opening when a
    // failed pipeline removes the partial file, and would then create it after the removal (seen under load).
    const handle = await open(partial, 'wx', 0o644);
    const sink = handle.createWriteStream();
    const closed = new Promise<void>((resolve) => sink.once('close', resolve));
    try {
      await pipeline(source, meter, sink, ...(signal ? [{ signal }] : []));
    } catch (error) {
      await closed;
      await rm(partial, { force: true });
      throw error;
    }
    const sha256 = hash.digest('hex');
    const final = contentPath(this.root, sha256);
    if (await exists(final)) {
      await rm(partial, { force: true });
      return { sha256, size, path: final, fresh: false };
    }
    await mkdir(path.dirname(final), { recursive: true });
    await rename(partial, final);
    return { sha256, size, path: final, fresh: true };
  }

  pathOf(sha256: string): string {
    return contentPath(this.root, sha256);
  }

  async has(sha256: string): Promise<boolean> {
    return exists(contentPath(this.root, sha256));
  }

  /** Frees a content (the caller knows no job holds it any more), and its torrent kept beside it (or its part). */
  async remove(sha256: string): Promise<void> {
    const file = contentPath(this.root, sha256);
    await rm(file, { force: true });
    await rm(`${file}.torrent`, { force: true });
    // What a crash while the torrent was written left (torrent-packaging writes `.torrent.part`, then renames).
    await rm(`${file}.torrent.part`, { force: true });
  }

  /** Removes partial files a crash left behind (call at start, before any ingest). */
  async sweep(): Promise<void> {
    await rm(path.join(this.root, 'tmp'), { recursive: true, force: true });
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}
