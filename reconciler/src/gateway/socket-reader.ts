import type { Socket } from 'node:net';

/**
 * Reads exact byte counts from a socket during a handshake. At most `maxBuffered` bytes wait unread (the socket is
 * paused beyond that), a read fails when the socket ends, errs or closes first, and `release` hands the socket back
 * with whatever arrived after the handshake.
 */
export class SocketReader {
  readonly #socket: Socket;
  readonly #maxBuffered: number;
  #chunks: Buffer[] = [];
  #length = 0;
  #wanted: { n: number; resolve: (bytes: Buffer) => void; reject: (error: Error) => void } | null = null;
  #ended: Error | null = null;
  readonly #onData = (chunk: Buffer): void => {
    this.#chunks.push(chunk);
    this.#length += chunk.length;
    if (this.#length >= this.#maxBuffered) this.#socket.pause();
    this.#serve();
  };
  readonly #onEnd = (): void => {
    this.#fail(new Error('the client closed the connection during the handshake'));
  };

  constructor(socket: Socket, maxBuffered: number) {
    this.#socket = socket;
    this.#maxBuffered = maxBuffered;
    socket.on('data', this.#onData);
    socket.on('end', this.#onEnd);
    socket.on('close', this.#onEnd);
    socket.on('error', this.#onEnd);
  }

  /** Exactly `n` bytes (n ≤ maxBuffered). */
  read(n: number): Promise<Buffer> {
    if (this.#wanted) return Promise.reject(new Error('SocketReader: one read at a time'));
    return new Promise((resolve, reject) => {
      this.#wanted = { n, resolve, reject };
      this.#serve();
    });
  }

  /** One byte, as a number. */
  async byte(): Promise<number> {
    return (await this.read(1))[0] ?? 0;
  }

  /** Stops reading: the socket paused, its listeners removed, and the bytes read but not consumed. */
  release(): Buffer {
    this.#socket.pause();
    this.#socket.off('data', this.#onData);
    this.#socket.off('end', this.#onEnd);
    this.#socket.off('close', this.#onEnd);
    this.#socket.off('error', this.#onEnd);
    const rest = Buffer.concat(this.#chunks);
    this.#chunks = [];
    this.#length = 0;
    return rest;
  }

  #serve(): void {
    const wanted = this.#wanted;
    if (!wanted) return;
    if (this.#length >= wanted.n) {
      const all = Buffer.concat(this.#chunks);
      this.#chunks = all.length > wanted.n ? [all.subarray(wanted.n)] : [];
      this.#length = all.length - wanted.n;
      this.#wanted = null;
      if (this.#length < this.#maxBuffered) this.#socket.resume();
      wanted.resolve(all.subarray(0, wanted.n));
    } else if (this.#ended) {
      this.#wanted = null;
      wanted.reject(this.#ended);
    } else {
      this.#socket.resume();
    }
  }

  #fail(error: Error): void {
    this.#ended ??= error;
    this.#serve();
  }
}
