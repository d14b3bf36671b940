import { readFile, rename, writeFile } from 'node:fs/promises';
import type { Packaging } from './job-runner.js';
import type { Seeder } from './seeder.js';
import type { TorrentFiles } from './torrent-http.js';
import { magnetOf, makeTorrent, parseTorrentInfo } from './torrent-file.js';
import type { Tracker } from './tracker.js';

export interface TorrentPackagingOptions {
  readonly seeder: Seeder;
  readonly tracker: Tracker;
  /** `http://HOST:PORT/announce`: the service's own tracker, as downloaders reach it. */
  readonly announceUrl: string;
  /** The seeder as downloaders reach it (the tracker lists it for every torrent). */
  readonly seederHost: string;
  readonly seederPort: number;
}

interface Packaged {
  readonly infoHash: string;
  readonly torrent: Buffer;
  readonly length: number;
  readonly name: string;
}

/**
 * One private torrent per content, named by the content's SHA-256 (so jobs that share a content share a torrent
 * and its infohash): made once and kept beside the content (`<hash>.torrent`), read back after a restart, then
 * served by the seeder and listed by the tracker until no job holds the content.
 */
export class TorrentPackaging implements Packaging, TorrentFiles {
  readonly #options: TorrentPackagingOptions;
  readonly #byContent = new Map<string, Packaged>();
  readonly #infoHashes = new Set<string>();
  /** Seeds under way, by content: jobs that finish the same content at once wait for one torrent. */
  readonly #pending = new Map<string, Promise<string>>();

  constructor(options: TorrentPackagingOptions) {
    this.#options = options;
  }

  /** Whether the tracker should answer for this infohash. */
  knows(infoHash: string): boolean {
    return this.#infoHashes.has(infoHash);
  }

  seed(content: { readonly sha256: string; readonly path: string; readonly size: number }): Promise<string> {
    const pending = this.#pending.get(content.sha256);
    if (pending) return pending;
    const seeding = this.#seed(content).finally(() => {
      this.#pending.delete(content.sha256);
    });
    this.#pending.set(content.sha256, seeding);
    return seeding;
  }

  async #seed(content: { readonly sha256: string; readonly path: string; readonly size: number }): Promise<string> {
    const { seeder, tracker, seederHost, seederPort } = this.#options;
    const packaged = this.#byContent.get(content.sha256) ?? (await this.#torrentOf(content));
    const info = parseTorrentInfo(packaged.torrent);
    await seeder.add({
      infoHash: packaged.infoHash,
      path: content.path,
      pieceLength: info.pieceLength,
      length: info.length,
    });
    this.#byContent.set(content.sha256, packaged);
    this.#infoHashes.add(packaged.infoHash);
    tracker.addSeeder(packaged.infoHash, seederHost, seederPort, seeder.peerId);
    return packaged.infoHash;
  }

  async unseed(sha256: string): Promise<void> {
    const packaged = this.#byContent.get(sha256);
    this.#byContent.delete(sha256);
    if (packaged) {
      this.#infoHashes.delete(packaged.infoHash);
      this.#options.tracker.forget(packaged.infoHash);
      await this.#options.seeder.remove(packaged.infoHash);
    }
  }

  torrent(sha256: string): Buffer | null {
    return this.#byContent.get(sha256)?.torrent ?? null;
  }

  magnet(sha256: string): string | null {
    const packaged = this.#byContent.get(sha256);
    if (!packaged) return null;
    const { infoHash, name, length } = packaged;
    return magnetOf({ infoHash, name, length, announceUrl: this.#options.announceUrl });
  }

  /** The kept torrent when it announces to this tracker, else a new one (written beside the content). */
  async #torrentOf(content: {
    readonly sha256: string;
    readonly path: string;
    readonly size: number;
  }): Promise<Packaged> {
    const file = `${content.path}.torrent`;
    const name = content.sha256;
    try {
      const torrent = await readFile(file);
      const info = parseTorrentInfo(torrent);
      if (info.announce === this.#options.announceUrl && info.length === content.size && info.name === name) {
        return { infoHash: info.infoHash, torrent, length: info.length, name };
      }
    } catch {
      // none kept yet, or unreadable: made again below
    }
    const made = await makeTorrent({ contentPath: content.path, name, announceUrl: this.#options.announceUrl });
    await writeFile(`${file}.part`, made.torrent);
    await rename(`${file}.part`, file);
    return { infoHash: made.infoHash, torrent: made.torrent, length: made.length, name };
  }
}
