import Wire from 'bittorrent-protocol';
import { MAX_BLOCK_LENGTH } from './served-torrent.js';

/**
 * The longest message a peer may send a seed: a piece message of the largest block, with room to spare (a
 * bitfield of 400,000 pieces is 50 KB). bittorrent-protocol buffers a message of any announced length.
 */
export const MAX_MESSAGE_LENGTH = MAX_BLOCK_LENGTH + 1024;

/** Why a SeederWire was cut, for the seeder's log and tests. */
export class WireProtocolError extends Error {
  override readonly name = 'WireProtocolError';
}

/**
 * bittorrent-protocol's Wire, guarded where the package is not: a length prefix past MAX_MESSAGE_LENGTH would make
 * it buffer up to 4 GiB, and a parser that throws (an MSE/PE key the DH computation rejects, say) would throw out
 * of the socket's write. Both now call `onFatal` once (the seeder drops the peer) and the wire reads no further.
 * (The package's destroy() is a graceful end that drops any error, so a failed write cannot report it.)
 */
export class SeederWire extends Wire {
  private fatal = false;

  constructor(
    type: string,
    peEnabled: 0 | 1 | 2,
    private readonly onFatal: (reason: string) => void,
  ) {
    super(type, peEnabled);
  }

  override _onMessageLength(buffer: Uint8Array): void {
    const length = (buffer[0] ?? 0) * 2 ** 24 + ((buffer[1] ?? 0) << 16) + ((buffer[2] ?? 0) << 8) + (buffer[3] ?? 0);
    if (length > MAX_MESSAGE_LENGTH) {
      throw new WireProtocolError(`message of ${String(length)} bytes, more than ${String(MAX_MESSAGE_LENGTH)}`);
    }
    super._onMessageLength(buffer);
  }

  override _write(data: Uint8Array, cb: (err: Error | null) => void): void {
    if (this.fatal) {
      cb(null);
      return;
    }
    try {
      super._write(data, cb);
    } catch (error) {
      this.fatal = true;
      cb(null);
      this.onFatal(error instanceof Error ? error.message : String(error));
    }
  }

  /** setInfoHash resumes parsing, so it can meet the same throws. */
  override setInfoHash(infoHash: string): void {
    try {
      super.setInfoHash(infoHash);
    } catch (error) {
      this.fatal = true;
      this.onFatal(error instanceof Error ? error.message : String(error));
    }
  }
}
