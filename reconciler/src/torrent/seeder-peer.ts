import type { Socket } from 'node:net';
import type { ServedTorrent } from './served-torrent.js';
import { SeederWire } from './seeder-wire.js';
import type { TokenBucket } from './token-bucket.js';

export interface SeederPeerContext {
  readonly peerId: Buffer;
  readonly bucket: TokenBucket;
  readonly handshakeTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly maxQueuedRequests: number;
  readonly torrentOf: (infoHash: string) => ServedTorrent | null;
  readonly infoHashOfReq2: (req2Hash: string) => string | null;
  readonly onUpload: (bytes: number) => void;
  /** Called once, with why the connection ended. */
  readonly onClose: (reason: string) => void;
}

interface QueuedRequest {
  readonly index: number;
  readonly offset: number;
  readonly length: number;
  readonly respond: (err: Error | null, block?: Uint8Array) => void;
}

/**
 * One incoming peer connection of the seeder. It is a seed's side only: after the handshake for a served torrent
 * it sends the full bitfield, unchokes the peer once interested and answers its requests one at a time (rate
 * limited, waiting for the socket to drain, so a peer holds at most a block or two in memory). Anything a
 * well-behaved leecher would not do closes the connection: a bad handshake, an unknown torrent, a request outside
 * the content or over 128 KiB, too many requests waiting, an oversized message.
 */
/** How a peer's stream ended up: RC4 after an MSE/PE key exchange, plaintext after one, or plain BitTorrent. */
export type PeerEncryption = 'rc4' | 'mse-plaintext' | 'none';

export class SeederPeer {
  infoHash: string | null = null;
  encryption: PeerEncryption = 'none';
  private readonly wire: SeederWire;
  private readonly queue: QueuedRequest[] = [];
  private readonly closing = new AbortController();
  private torrent: ServedTorrent | null = null;
  private cryptoInfoHash: string | null = null;
  private serving = false;
  private readonly handshakeTimer: NodeJS.Timeout;

  constructor(
    private readonly socket: Socket,
    readonly remote: string,
    private readonly context: SeederPeerContext,
  ) {
    // MSE/PE allowed, plaintext too (1): the package answers a plaintext handshake or an MSE key exchange.
    this.wire = new SeederWire('tcpIncoming', 1, (reason) => {
      this.close(`protocol error: ${reason}`);
    });
    this.handshakeTimer = setTimeout(() => {
      this.close('handshake timeout');
    }, context.handshakeTimeoutMs);
    socket.setTimeout(context.idleTimeoutMs, () => {
      this.close('idle timeout');
    });
    socket.on('close', () => {
      this.close('peer disconnected');
    });
    this.wire.on('error', (error) => {
      this.close(`wire error: ${error.message}`);
    });
    this.wire.on('close', () => {
      this.close('wire closed');
    });
    this.wire.on('crypto-infohash', (req2Hash) => {
      this.onCryptoInfoHash(req2Hash);
    });
    this.wire.on('handshake', (infoHash) => {
      this.onHandshake(infoHash);
    });
    this.wire.on('interested', () => {
      this.wire.unchoke();
    });
    this.wire.on('request', (index, offset, length, respond) => {
      this.onRequest({ index, offset, length, respond });
    });
    this.wire.on('cancel', (index, offset, length) => {
      const at = this.queue.findIndex((r) => r.index === index && r.offset === offset && r.length === length);
      if (at !== -1) this.queue.splice(at, 1);
    });
    this.wire.on('upload', (bytes) => {
      context.onUpload(bytes);
    });
    // Into the wire by hand (it is a streamx stream, not a node Writable), pausing the socket while it is full.
    socket.on('data', (chunk: Buffer) => {
      if (!this.wire.write(chunk)) socket.pause();
    });
    this.wire.on('drain', () => {
      socket.resume();
    });
    this.wire.pipe(socket);
  }

  /** A method, not a getter: it changes across awaits, which TypeScript's narrowing of a getter would ignore. */
  isClosed(): boolean {
    return this.closing.signal.aborted;
  }

  /** Ends the connection at once (idempotent); queued requests are dropped. */
  close(reason: string): void {
    if (this.isClosed()) return;
    this.closing.abort();
    clearTimeout(this.handshakeTimer);
    this.queue.length = 0;
    this.wire.setKeepAlive(false); // its interval is not unref'd: never leave it behind
    this.socket.destroy();
    this.wire.destroy();
    this.context.onClose(reason);
  }

  private onCryptoInfoHash(req2Hash: string): void {
    const infoHash = this.context.infoHashOfReq2(req2Hash);
    if (infoHash === null) {
      this.close('unknown torrent (MSE/PE)');
      return;
    }
    this.cryptoInfoHash = infoHash;
    // The package emits this from inside its parser; resuming it there would re-enter the parse loop.
    queueMicrotask(() => {
      if (!this.isClosed()) this.wire.setInfoHash(infoHash);
    });
  }

  private onHandshake(infoHash: string): void {
    const torrent = this.context.torrentOf(infoHash);
    if (torrent === null) {
      this.close('unknown torrent');
      return;
    }
    if (this.cryptoInfoHash !== null && this.cryptoInfoHash !== infoHash) {
      this.close('handshake infohash is not the one of the MSE/PE key exchange');
      return;
    }
    clearTimeout(this.handshakeTimer);
    const method = this.wire._encryptionMethod;
    this.encryption = method === 2 ? 'rc4' : method === 1 ? 'mse-plaintext' : 'none';
    this.torrent = torrent;
    this.infoHash = infoHash;
    this.wire.handshake(infoHash, this.context.peerId, { dht: false, fast: false });
    this.wire.bitfield(torrent.bitfield);
    this.wire.setKeepAlive(true);
  }

  private onRequest(request: QueuedRequest): void {
    if (this.torrent === null) {
      this.close('request before handshake');
      return;
    }
    const problem = this.torrent.checkRequest(request.index, request.offset, request.length);
    if (problem !== null) {
      this.close(`bad request: ${problem}`);
      return;
    }
    if (this.queue.length >= this.context.maxQueuedRequests) {
      this.close(`more than ${String(this.context.maxQueuedRequests)} requests waiting`);
      return;
    }
    this.queue.push(request);
    if (!this.serving) void this.serve(this.torrent);
  }

  /** Answers queued requests in order until none is left; never throws (a failure closes the peer). */
  private async serve(torrent: ServedTorrent): Promise<void> {
    this.serving = true;
    try {
      for (let next = this.queue[0]; next !== undefined && !this.isClosed(); next = this.queue[0]) {
        await this.context.bucket.take(next.length, this.closing.signal);
        if (this.isClosed()) return;
        if (this.queue[0] !== next) continue; // cancelled (or choked away) while waiting
        const block = await torrent.read(next.index, next.offset, next.length);
        if (this.isClosed()) return;
        this.queue.shift();
        next.respond(null, block); // the wire sends it unless the peer cancelled meanwhile
        if (this.socket.writableNeedDrain) await this.drained();
      }
    } catch (error) {
      this.close(`read failed: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      this.serving = false;
    }
  }

  /** Resolves when the socket drains or the peer closes, leaving no listener behind. */
  private drained(): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.socket.off('drain', done);
        this.closing.signal.removeEventListener('abort', done);
        resolve();
      };
      this.socket.on('drain', done);
      this.closing.signal.addEventListener('abort', done);
    });
  }
}
