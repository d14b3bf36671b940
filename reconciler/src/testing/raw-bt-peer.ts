import { connect, type Socket } from 'node:net';

/** A BitTorrent message as received: id and payload (null id for a keep-alive). */
export interface BtMessage {
  readonly id: number | null;
  readonly payload: Buffer;
}

/** The plaintext handshake (BEP 3): no reserved bits set, so the seeder sends no extended handshake. */
export function handshakeBytes(infoHash: string, peerId: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from('\x13BitTorrent protocol', 'latin1'),
    Buffer.alloc(8),
    Buffer.from(infoHash, 'hex'),
    peerId,
  ]);
}

export function messageBytes(id: number, ...numbers: number[]): Buffer {
  const out = Buffer.alloc(5 + 4 * numbers.length);
  out.writeUInt32BE(1 + 4 * numbers.length, 0);
  out[4] = id;
  numbers.forEach((n, i) => out.writeUInt32BE(n, 5 + 4 * i));
  return out;
}

/**
 * A scripted peer on a raw socket, for hostile tests: it writes whatever bytes it is told and parses what comes
 * back (the 68-byte handshake, then length-prefixed messages).
 */
export class RawBtPeer {
  readonly socket: Socket;
  readonly messages: BtMessage[] = [];
  handshake: Buffer | null = null;
  bytesReceived = 0;
  /** Kept from the connect: a closed socket forgets it. */
  localPort = 0;
  private buffer = Buffer.alloc(0);
  private readonly closedPromise: Promise<void>;
  private waiters: (() => void)[] = [];

  constructor(port: number, host = '127.0.0.1') {
    this.socket = connect(port, host);
    this.socket.on('connect', () => {
      this.localPort = this.socket.localPort ?? 0;
    });
    this.socket.on('error', () => {
      // a reset by the seeder is what many tests expect
    });
    this.socket.on('data', (chunk: Buffer) => {
      this.bytesReceived += chunk.length;
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.parse();
      for (const wake of this.waiters.splice(0)) wake();
    });
    this.closedPromise = new Promise((resolve) =>
      this.socket.on('close', () => {
        resolve();
      }),
    );
  }

  async connected(): Promise<void> {
    if (this.socket.readyState === 'open') return;
    await new Promise<void>((resolve, reject) => {
      this.socket.once('connect', resolve);
      this.socket.once('close', () => {
        reject(new Error('closed before connecting'));
      });
    });
  }

  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** Resolves when the seeder has closed the connection; rejects after `ms`. */
  closed(ms: number): Promise<void> {
    return within(this.closedPromise, ms, 'the seeder did not close the connection');
  }

  get isClosed(): boolean {
    return this.socket.destroyed || this.socket.readyState === 'closed';
  }

  /** Waits until `predicate` holds on what was received, or rejects after `ms`. */
  async until(predicate: () => boolean, ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (!predicate()) {
      if (Date.now() >= deadline) throw new Error('timed out waiting for the seeder');
      await within(new Promise<void>((resolve) => this.waiters.push(resolve)), deadline - Date.now(), '').catch(
        () => undefined,
      );
    }
  }

  pieces(): { index: number; offset: number; block: Buffer }[] {
    return this.messages
      .filter((m) => m.id === 7)
      .map((m) => ({
        index: m.payload.readUInt32BE(0),
        offset: m.payload.readUInt32BE(4),
        block: m.payload.subarray(8),
      }));
  }

  destroy(): void {
    this.socket.destroy();
  }

  private parse(): void {
    if (this.handshake === null) {
      if (this.buffer.length < 68) return;
      this.handshake = this.buffer.subarray(0, 68);
      this.buffer = this.buffer.subarray(68);
    }
    while (this.buffer.length >= 4) {
      const length = this.buffer.readUInt32BE(0);
      if (this.buffer.length < 4 + length) return;
      const body = this.buffer.subarray(4, 4 + length);
      this.messages.push(length === 0 ? { id: null, payload: body } : { id: body[0] ?? 0, payload: body.subarray(1) });
      this.buffer = this.buffer.subarray(4 + length);
    }
  }
}

function within<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => {
        reject(new Error(message));
      },
      Math.max(0, ms),
    );
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
