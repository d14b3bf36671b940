import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { Seeder, type PeerClosedEvent, type SeederOptions } from '../torrent/seeder.js';
import { makeTorrent, type MadeTorrent } from '../torrent/torrent-file.js';
import { Tracker } from '../torrent/tracker.js';

export interface TorrentSwarm {
  readonly seeder: Seeder;
  readonly tracker: Tracker;
  readonly seederPort: number;
  readonly trackerPort: number;
  /** Why each peer connection closed, in order. */
  readonly closed: PeerClosedEvent[];
  /** Adds a content of random bytes, writes its .torrent, and serves it. */
  share(name: string, size: number): Promise<SharedContent>;
  close(): Promise<void>;
}

export interface SharedContent extends MadeTorrent {
  readonly content: Buffer;
  readonly contentPath: string;
  readonly torrentFile: string;
}

/**
 * The service's torrent side on loopback, for tests: the real Tracker mounted on a node:http server at
 * 127.0.0.1:`trackerPort` and the real Seeder at 127.0.0.1:`seederPort` (0: any free port), listed in the tracker.
 */
export async function startSwarm(
  dir: string,
  trackerPort: number,
  seederOptions: Partial<SeederOptions> = {},
): Promise<TorrentSwarm> {
  const closed: PeerClosedEvent[] = [];
  const seeder = new Seeder({
    host: '127.0.0.1',
    port: 0,
    maxPeers: 50,
    uploadRateBytesPerSecond: 0,
    handshakeTimeoutMs: 2000,
    ...seederOptions,
    onPeerClosed: (event) => {
      closed.push(event);
      seederOptions.onPeerClosed?.(event);
    },
  });
  const { port: seederPort } = await seeder.listen();
  const tracker = new Tracker({ isKnown: (infoHash) => seeder.has(infoHash), intervalSeconds: 60 });
  const server: Server = createServer(tracker.handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(trackerPort, '127.0.0.1', resolve);
  });
  const announceUrl = `http://127.0.0.1:${String(trackerPort)}/announce`;
  mkdirSync(dir, { recursive: true });
  return {
    seeder,
    tracker,
    seederPort,
    trackerPort,
    closed,
    async share(name, size) {
      const content = randomBytes(size);
      const contentPath = path.join(dir, `${name}.content`);
      writeFileSync(contentPath, content);
      const made = await makeTorrent({ contentPath, name, announceUrl });
      const torrentFile = path.join(dir, `${name}.torrent`);
      writeFileSync(torrentFile, made.torrent);
      await seeder.add({
        infoHash: made.infoHash,
        path: contentPath,
        pieceLength: made.pieceLength,
        length: made.length,
      });
      tracker.addSeeder(made.infoHash, '127.0.0.1', seederPort, seeder.peerId);
      return { ...made, content, contentPath, torrentFile };
    },
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      });
      await seeder.close();
    },
  };
}
