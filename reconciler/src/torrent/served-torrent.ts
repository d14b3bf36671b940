import { createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';

/** The largest block a peer may ask for (BEP 3 clients ask for 16 KiB; some allow up to 128 KiB). */
export const MAX_BLOCK_LENGTH = 128 * 1024;

export interface TorrentToServe {
  /** 40 lowercase hex digits. */
  readonly infoHash: string;
  /** The content file (one-file torrents only). */
  readonly path: string;
  readonly pieceLength: number;
  readonly length: number;
}

/**
 * One torrent the seeder serves: an open handle on its content, read with positioned reads a block at a time
 * (never the whole file), and the checks a peer's request must pass.
 */
export class ServedTorrent {
  readonly pieceCount: number;
  /** All pieces, high bit first (BEP 3); the spare bits of the last byte are zero. */
  readonly bitfield: Buffer;
  /** SHA-1('req2' + infohash): how an MSE/PE initiator names the torrent (the 'crypto-infohash'). */
  readonly req2Hash: string;

  private constructor(
    readonly spec: TorrentToServe,
    private readonly handle: FileHandle,
  ) {
    this.pieceCount = Math.ceil(spec.length / spec.pieceLength);
    this.bitfield = Buffer.alloc(Math.ceil(this.pieceCount / 8));
    for (let i = 0; i < this.pieceCount; i++) this.bitfield[i >> 3] = (this.bitfield[i >> 3] ?? 0) | (0x80 >> (i & 7));
    this.req2Hash = createHash('sha1').update('req2').update(Buffer.from(spec.infoHash, 'hex')).digest('hex');
  }

  /** Opens the content; its size must be the torrent's length. */
  static async open(spec: TorrentToServe): Promise<ServedTorrent> {
    if (!/^[0-9a-f]{40}$/.test(spec.infoHash)) throw new RangeError('infoHash must be 40 lowercase hex digits');
    if (!Number.isSafeInteger(spec.pieceLength) || spec.pieceLength <= 0) throw new RangeError('bad piece length');
    if (!Number.isSafeInteger(spec.length) || spec.length <= 0) throw new RangeError('bad length');
    const handle = await open(spec.path, 'r');
    try {
      const { size } = await handle.stat();
      if (size !== spec.length) {
        throw new RangeError(`${spec.path} holds ${String(size)} bytes, the torrent ${String(spec.length)}`);
      }
      return new ServedTorrent(spec, handle);
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /**
   * Why a request is refused, or null when it is inside the content and at most MAX_BLOCK_LENGTH. Negative numbers
   * are refused too: bittorrent-protocol reads the 32-bit fields as SIGNED, so 0x80000000 and up arrive below 0.
   */
  checkRequest(index: number, offset: number, length: number): string | null {
    if (![index, offset, length].every((n) => Number.isSafeInteger(n) && n >= 0)) {
      return `request fields ${String(index)}/${String(offset)}/${String(length)} not non-negative integers`;
    }
    if (index >= this.pieceCount) return `piece ${String(index)} past the last (${String(this.pieceCount - 1)})`;
    if (length === 0 || length > MAX_BLOCK_LENGTH)
      return `block length ${String(length)} not 1-${String(MAX_BLOCK_LENGTH)}`;
    const pieceSize = Math.min(this.spec.pieceLength, this.spec.length - index * this.spec.pieceLength);
    if (offset + length > pieceSize) return `block ${String(offset)}+${String(length)} past piece ${String(index)}`;
    return null;
  }

  /** The bytes of a checked request. */
  async read(index: number, offset: number, length: number): Promise<Buffer> {
    const block = Buffer.allocUnsafe(length);
    const start = index * this.spec.pieceLength + offset;
    let filled = 0;
    while (filled < length) {
      const { bytesRead } = await this.handle.read(block, filled, length - filled, start + filled);
      if (bytesRead === 0) throw new Error(`${this.spec.path} is shorter than its torrent`);
      filled += bytesRead;
    }
    return block;
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}
