import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { MAX_QUERY_LENGTH, parseAnnounce } from './announce-query.js';
import { PeerTable } from './tracker-peers.js';
import { encodeAnnounceAnswer, encodeFailure } from './tracker-response.js';

export interface TrackerOptions {
  /** Whether the service serves this infohash (40 hex lower); any other is refused with a failure reason. */
  readonly isKnown: (infoHash: string) => boolean;
  /** Seconds between a client's announces (default 600); a peer not heard from for twice that is dropped. */
  readonly intervalSeconds?: number;
  /** Announcing peers kept per torrent (default 500). */
  readonly maxPeersPerTorrent?: number;
  /** Torrents whose peers are kept (default 10000). */
  readonly maxTorrents?: number;
  /** Most peers in one answer; also the default for a client that does not say (default 50). */
  readonly maxNumwant?: number;
  readonly clock?: () => number;
}

const BENCODE_TYPE = 'text/plain; charset=iso-8859-1';

/**
 * The service's own HTTP tracker (BEP 3 announce, BEP 23 compact peers), for the service to mount on its listener
 * at GET /announce. No auth (BitTorrent clients cannot sign): it answers only for torrents the service serves.
 * Peers are kept in memory, bounded, and expire; the service's seeder is always in the list. The handler never
 * throws: a bad announce gets a bencoded `failure reason`, a wrong method or path or an oversized URL a 4xx.
 */
export class Tracker {
  private readonly table: PeerTable;
  private readonly intervalSeconds: number;
  private readonly maxNumwant: number;
  private readonly clock: () => number;
  private lastSweep: number;

  constructor(private readonly options: TrackerOptions) {
    this.intervalSeconds = options.intervalSeconds ?? 600;
    this.maxNumwant = options.maxNumwant ?? 50;
    this.clock = options.clock ?? Date.now;
    this.lastSweep = this.clock();
    this.table = new PeerTable({
      ttlMs: 2 * this.intervalSeconds * 1000,
      maxTorrents: options.maxTorrents ?? 10_000,
      maxPeersPerTorrent: options.maxPeersPerTorrent ?? 500,
      clock: this.clock,
    });
  }

  /** Lists the service's seeder for a torrent (always first, never expiring) until `forget`. */
  addSeeder(infoHash: string, host: string, port: number, peerId?: Buffer): void {
    this.table.addSeeder(infoHash, { ip: host, port, peerId: peerId ?? null });
  }

  /** Forgets a torrent the service no longer serves, its seeder included. */
  forget(infoHash: string): void {
    this.table.forget(infoHash);
  }

  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    try {
      req.resume(); // no body is read: drain whatever came
      this.answer(req, res);
    } catch {
      // The cause stays inside: an unauthenticated client learns nothing of the service from it.
      if (!res.headersSent) send(res, 500, encodeFailure('tracker error: try again later'));
      else res.destroy();
    }
  };

  private answer(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '';
    const mark = url.indexOf('?');
    const pathname = mark === -1 ? url : url.slice(0, mark);
    const query = mark === -1 ? '' : url.slice(mark + 1);
    if (pathname !== '/announce') {
      send(res, 404, encodeFailure('not found: the tracker answers GET /announce'));
      return;
    }
    if (req.method !== 'GET') {
      res.setHeader('Allow', 'GET');
      send(res, 405, encodeFailure('announce with GET'));
      return;
    }
    if (query.length > MAX_QUERY_LENGTH) {
      send(res, 414, encodeFailure('announce query too long'));
      return;
    }
    const parsed = parseAnnounce(query);
    if (!parsed.ok) {
      send(res, 200, encodeFailure(parsed.reason));
      return;
    }
    const announce = parsed.announce;
    if (!this.options.isKnown(announce.infoHash)) {
      send(res, 200, encodeFailure('unknown torrent: this tracker serves only the torrents of its service'));
      return;
    }
    const remote = plainAddress(req.socket.remoteAddress ?? '');
    const ip = announce.ip !== null && isLoopback(remote) && isIP(announce.ip) !== 0 ? announce.ip : remote;
    const self = { ip, port: announce.port };
    this.maybeSweep();
    const stopped = announce.event === 'stopped';
    this.table.announce(announce.infoHash, { ...self, peerId: announce.peerId, seeding: announce.left === 0 }, stopped);
    const limit = stopped ? 0 : Math.min(announce.numwant ?? this.maxNumwant, this.maxNumwant);
    const body = encodeAnnounceAnswer({
      intervalSeconds: this.intervalSeconds,
      ...this.table.counts(announce.infoHash),
      peers: this.table.peersFor(announce.infoHash, self, limit),
      compact: announce.compact,
      noPeerId: announce.noPeerId,
    });
    send(res, 200, body);
  }

  private maybeSweep(): void {
    const now = this.clock();
    if (now - this.lastSweep < this.intervalSeconds * 1000) return;
    this.lastSweep = now;
    this.table.sweep();
  }
}

function send(res: ServerResponse, status: number, body: Buffer): void {
  res.writeHead(status, { 'Content-Type': BENCODE_TYPE, 'Content-Length': body.length, 'Cache-Control': 'no-store' });
  res.end(body);
}

/** `::ffff:1.2.3.4` as `1.2.3.4`, so an IPv4 peer on a dual-stack listener is a compact IPv4 peer. */
function plainAddress(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

function isLoopback(address: string): boolean {
  return address === '::1' || address.startsWith('127.');
}
