export interface TrackedPeer {
  readonly ip: string;
  readonly port: number;
  /** Absent for the in-process seeder when none was given. */
  readonly peerId: Buffer | null;
  readonly seeding: boolean;
}

interface Swarm {
  /** By `ip port`, oldest announce first (a re-announce moves a peer to the end). */
  readonly peers: Map<string, TrackedPeer & { expiresAt: number }>;
  /** The service's own seeders: never expire, never evicted, always listed first. */
  readonly seeders: Map<string, TrackedPeer>;
}

export interface PeerTableOptions {
  /** A peer not heard from for this long is dropped (the tracker passes 2x its interval). */
  readonly ttlMs: number;
  readonly maxTorrents: number;
  readonly maxPeersPerTorrent: number;
  readonly clock: () => number;
}

/**
 * The tracker's memory: the peers of each torrent, bounded. A torrent's announcing peers are capped (a new peer
 * past the cap evicts the one heard from longest ago, after expired ones go), and so are the torrents (past the cap
 * a new torrent's peers are not kept, though it is still answered with its seeders).
 */
export class PeerTable {
  private readonly swarms = new Map<string, Swarm>();

  constructor(private readonly options: PeerTableOptions) {}

  /** Records (or, with `stopped`, forgets) one announcing peer. */
  announce(infoHash: string, peer: TrackedPeer, stopped: boolean): void {
    const key = `${peer.ip} ${String(peer.port)}`;
    const existing = this.swarms.get(infoHash);
    if (stopped) {
      existing?.peers.delete(key);
      return;
    }
    const swarm = existing ?? this.newSwarm(infoHash);
    if (swarm === null) return;
    const now = this.options.clock();
    swarm.peers.delete(key);
    if (swarm.peers.size >= this.options.maxPeersPerTorrent) this.sweepSwarm(swarm, now);
    if (swarm.peers.size >= this.options.maxPeersPerTorrent) {
      const oldest = swarm.peers.keys().next();
      if (oldest.done !== true) swarm.peers.delete(oldest.value);
    }
    swarm.peers.set(key, { ...peer, expiresAt: now + this.options.ttlMs });
  }

  addSeeder(infoHash: string, peer: Omit<TrackedPeer, 'seeding'>): void {
    const swarm = this.swarms.get(infoHash) ?? this.newSwarm(infoHash, true);
    swarm?.seeders.set(`${peer.ip} ${String(peer.port)}`, { ...peer, seeding: true });
  }

  /** Forgets a torrent, its seeders included. */
  forget(infoHash: string): void {
    this.swarms.delete(infoHash);
  }

  /** Up to `limit` peers, the service's seeders first, never `self`, nothing expired. */
  peersFor(infoHash: string, self: { ip: string; port: number }, limit: number): TrackedPeer[] {
    const swarm = this.swarms.get(infoHash);
    if (swarm === undefined || limit <= 0) return [];
    const now = this.options.clock();
    const out: TrackedPeer[] = [];
    const isSelf = (peer: TrackedPeer): boolean => peer.ip === self.ip && peer.port === self.port;
    for (const peer of swarm.seeders.values()) {
      if (out.length < limit && !isSelf(peer)) out.push(peer);
    }
    for (const { expiresAt, ...peer } of swarm.peers.values()) {
      if (out.length < limit && expiresAt > now && !isSelf(peer)) out.push(peer);
    }
    return out;
  }

  /** BEP 3 scrape-style counts: `complete` seeds (the service's included), `incomplete` leechers. */
  counts(infoHash: string): { complete: number; incomplete: number } {
    const swarm = this.swarms.get(infoHash);
    if (swarm === undefined) return { complete: 0, incomplete: 0 };
    const now = this.options.clock();
    let complete = swarm.seeders.size;
    let incomplete = 0;
    for (const peer of swarm.peers.values()) {
      if (peer.expiresAt <= now) continue;
      if (peer.seeding) complete++;
      else incomplete++;
    }
    return { complete, incomplete };
  }

  /** Drops expired peers everywhere, and torrents left with nobody. */
  sweep(): void {
    const now = this.options.clock();
    for (const [infoHash, swarm] of this.swarms) {
      this.sweepSwarm(swarm, now);
      if (swarm.peers.size === 0 && swarm.seeders.size === 0) this.swarms.delete(infoHash);
    }
  }

  get torrentCount(): number {
    return this.swarms.size;
  }

  peerCount(infoHash: string): number {
    return this.swarms.get(infoHash)?.peers.size ?? 0;
  }

  private newSwarm(infoHash: string, force = false): Swarm | null {
    if (!force && this.swarms.size >= this.options.maxTorrents) this.sweep();
    if (!force && this.swarms.size >= this.options.maxTorrents) return null;
    const swarm: Swarm = { peers: new Map(), seeders: new Map() };
    this.swarms.set(infoHash, swarm);
    return swarm;
  }

  private sweepSwarm(swarm: Swarm, now: number): void {
    for (const [key, peer] of swarm.peers) {
      if (peer.expiresAt <= now) swarm.peers.delete(key);
    }
  }
}
