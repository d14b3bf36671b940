import { randomBytes } from 'node:crypto';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { SeederPeer, type PeerEncryption } from './seeder-peer.js';
import { MAX_BLOCK_LENGTH, ServedTorrent, type TorrentToServe } from './served-torrent.js';
import { TokenBucket } from './token-bucket.js';

export interface SeederOptions {
  /** The address to listen on (the listen address's host). */
  readonly host: string;
  /** TORFLEET_TORRENT_PEER_PORT; 0 for any free port. */
  readonly port: number;
  /** TORFLEET_TORRENT_PEERS: connections held at once; one more is closed as soon as it is accepted. */
  readonly maxPeers: number;
  /** TORFLEET_TORRENT_UPLOAD_RATE: bytes per second sent to all peers together; 0 is unlimited. */
  readonly uploadRateBytesPerSecond: number;
  /** 20 bytes; default `-TF0100-` and 12 random bytes. */
  readonly peerId?: Buffer;
  /** A connection must finish its handshake (MSE/PE included) within this (default 10 s). */
  readonly handshakeTimeoutMs?: number;
  /** A connection silent for this long is closed (default 180 s; clients keep alive every 2 min). */
  readonly idleTimeoutMs?: number;
  /** Requests a peer may have waiting (default 500); one more drops the peer. */
  readonly maxQueuedRequests?: number;
  /** Told why each peer connection closed (for the service's log). */
  readonly onPeerClosed?: (event: PeerClosedEvent) => void;
}

export interface PeerClosedEvent {
  readonly remote: string;
  /** The torrent it had handshaken for, if any. */
  readonly infoHash: string | null;
  readonly encryption: PeerEncryption;
  readonly reason: string;
}

export interface SeederStats {
  /** Connections that finished their handshake for a served torrent. */
  readonly activePeers: number;
  /** All open peer connections, handshaking ones included (what maxPeers bounds). */
  readonly connections: number;
  /** Block bytes sent since start. */
  readonly bytesUploaded: number;
}

/**
 * A BitTorrent seed over TCP (incoming connections only) built on bittorrent-protocol's Wire: plaintext or MSE/PE
 * (RC4 or plaintext after the key exchange, as the peer asks), every piece offered, interested peers unchoked,
 * requests checked and served from the content file under one upload rate limit for all peers.
 */
export class Seeder {
  readonly peerId: Buffer;
  private readonly server: Server;
  private readonly torrents = new Map<string, ServedTorrent>();
  /** SHA-1('req2' + infohash) → infohash, for MSE/PE initiators. */
  private readonly byReq2Hash = new Map<string, string>();
  private readonly peers = new Set<SeederPeer>();
  private readonly bucket: TokenBucket;
  private uploaded = 0;

  constructor(private readonly options: SeederOptions) {
    if (options.peerId !== undefined && options.peerId.length !== 20) throw new RangeError('peerId must be 20 bytes');
    this.peerId = options.peerId ?? Buffer.concat([Buffer.from('-TF0100-'), randomBytes(12)]);
    const rate = options.uploadRateBytesPerSecond;
    this.bucket = new TokenBucket(rate, Math.max(MAX_BLOCK_LENGTH, Math.floor(rate / 4)));
    this.server = createServer((socket) => {
      this.accept(socket);
    });
    this.server.on('error', () => {
      // listen() reports its own error; a later one (none expected once listening) must not crash the process.
    });
  }

  listen(): Promise<{ port: number }> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error): void => {
        reject(error);
      };
      this.server.once('error', onError);
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off('error', onError);
        resolve({ port: (this.server.address() as AddressInfo).port });
      });
    });
  }

  /** Serves a torrent (a second add of the same infohash is a no-op). */
  async add(torrent: TorrentToServe): Promise<void> {
    if (this.torrents.has(torrent.infoHash)) return;
    const served = await ServedTorrent.open(torrent);
    if (this.torrents.has(torrent.infoHash)) {
      await served.close();
      return;
    }
    this.torrents.set(torrent.infoHash, served);
    this.byReq2Hash.set(served.req2Hash, torrent.infoHash);
  }

  has(infoHash: string): boolean {
    return this.torrents.has(infoHash);
  }

  /** Stops serving a torrent: its peers are closed, then its file. */
  async remove(infoHash: string): Promise<void> {
    const served = this.torrents.get(infoHash);
    if (served === undefined) return;
    this.torrents.delete(infoHash);
    this.byReq2Hash.delete(served.req2Hash);
    for (const peer of this.peers) {
      if (peer.infoHash === infoHash) peer.close('torrent removed');
    }
    await served.close();
  }

  stats(): SeederStats {
    let activePeers = 0;
    for (const peer of this.peers) if (peer.infoHash !== null) activePeers++;
    return { activePeers, connections: this.peers.size, bytesUploaded: this.uploaded };
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => {
      if (!this.server.listening) resolve();
      else
        this.server.close(() => {
          resolve();
        });
    });
    for (const peer of this.peers) peer.close('seeder closing');
    this.bucket.close();
    await closed;
    const torrents = [...this.torrents.values()];
    this.torrents.clear();
    this.byReq2Hash.clear();
    await Promise.all(torrents.map((torrent) => torrent.close()));
  }

  private accept(socket: Socket): void {
    const remote = `${socket.remoteAddress ?? '?'}:${String(socket.remotePort ?? 0)}`;
    socket.on('error', () => {
      // A peer's socket error ends only that peer (its 'close' follows).
    });
    if (this.peers.size >= this.options.maxPeers) {
      socket.destroy();
      this.options.onPeerClosed?.({ remote, infoHash: null, encryption: 'none', reason: 'too many peers' });
      return;
    }
    const peer = new SeederPeer(socket, remote, {
      peerId: this.peerId,
      bucket: this.bucket,
      handshakeTimeoutMs: this.options.handshakeTimeoutMs ?? 10_000,
      idleTimeoutMs: this.options.idleTimeoutMs ?? 180_000,
      maxQueuedRequests: this.options.maxQueuedRequests ?? 500,
      torrentOf: (infoHash) => this.torrents.get(infoHash) ?? null,
      infoHashOfReq2: (req2Hash) => this.byReq2Hash.get(req2Hash) ?? null,
      onUpload: (bytes) => {
        this.uploaded += bytes;
      },
      onClose: (reason) => {
        this.peers.delete(peer);
        this.options.onPeerClosed?.({ remote, infoHash: peer.infoHash, encryption: peer.encryption, reason });
      },
    });
    this.peers.add(peer);
  }
}
