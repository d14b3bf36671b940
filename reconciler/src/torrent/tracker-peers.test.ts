import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PeerTable, type TrackedPeer } from './tracker-peers.js';

const H = 'a'.repeat(40);
const peer = (ip: string, port: number, seeding = false): TrackedPeer => ({ ip, port, peerId: null, seeding });

function table(overrides: { maxTorrents?: number; maxPeersPerTorrent?: number } = {}) {
  let now = 1_000_000;
  const peers = new PeerTable({
    ttlMs: 1000,
    maxTorrents: overrides.maxTorrents ?? 10,
    maxPeersPerTorrent: overrides.maxPeersPerTorrent ?? 10,
    clock: () => now,
  });
  return { peers, advance: (ms: number) => (now += ms) };
}

describe('the peer table', () => {
  test('seeders first, never the asking peer, counts of seeds and leechers', () => {
    const { peers } = table();
    peers.addSeeder(H, { ip: '127.0.0.1', port: 6881, peerId: null });
    peers.announce(H, peer('10.0.0.1', 1), false);
    peers.announce(H, peer('10.0.0.2', 2, true), false);
    assert.deepEqual(
      peers.peersFor(H, { ip: '10.0.0.1', port: 1 }, 50).map((p) => `${p.ip}:${String(p.port)}`),
      ['127.0.0.1:6881', '10.0.0.2:2'],
    );
    assert.deepEqual(peers.counts(H), { complete: 2, incomplete: 1 });
    assert.equal(peers.peersFor(H, { ip: 'x', port: 0 }, 1).length, 1);
    assert.equal(peers.peersFor(H, { ip: 'x', port: 0 }, 0).length, 0);
  });

  test('a peer expires after the ttl unless it announces again; the seeder never does', () => {
    const { peers, advance } = table();
    peers.addSeeder(H, { ip: '127.0.0.1', port: 6881, peerId: null });
    peers.announce(H, peer('10.0.0.1', 1), false);
    peers.announce(H, peer('10.0.0.2', 2), false);
    advance(600);
    peers.announce(H, peer('10.0.0.2', 2), false);
    advance(600);
    const listed = peers.peersFor(H, { ip: 'x', port: 0 }, 50).map((p) => p.ip);
    assert.deepEqual(listed, ['127.0.0.1', '10.0.0.2']);
    assert.deepEqual(peers.counts(H), { complete: 1, incomplete: 1 });
    peers.sweep();
    assert.equal(peers.peerCount(H), 1);
    advance(2000);
    peers.sweep();
    assert.equal(peers.peerCount(H), 0);
    assert.equal(peers.torrentCount, 1, 'the seeder keeps the torrent');
  });

  test('stopped forgets the peer', () => {
    const { peers } = table();
    peers.announce(H, peer('10.0.0.1', 1), false);
    peers.announce(H, peer('10.0.0.1', 1), true);
    assert.equal(peers.peerCount(H), 0);
  });

  test('bounded: past the per-torrent cap the peer heard from longest ago goes; past the torrent cap none are kept', () => {
    const { peers } = table({ maxPeersPerTorrent: 3, maxTorrents: 2 });
    for (let i = 1; i <= 5; i++) peers.announce(H, peer(`10.0.0.${String(i)}`, i), false);
    assert.equal(peers.peerCount(H), 3);
    assert.deepEqual(
      peers.peersFor(H, { ip: 'x', port: 0 }, 50).map((p) => p.port),
      [3, 4, 5],
    );
    peers.announce('b'.repeat(40), peer('10.0.0.1', 1), false);
    peers.announce('c'.repeat(40), peer('10.0.0.1', 1), false);
    assert.equal(peers.torrentCount, 2);
    assert.equal(peers.peerCount('c'.repeat(40)), 0);
  });

  test('forget drops the torrent and its seeder', () => {
    const { peers } = table();
    peers.addSeeder(H, { ip: '127.0.0.1', port: 6881, peerId: null });
    peers.forget(H);
    assert.equal(peers.peersFor(H, { ip: 'x', port: 0 }, 50).length, 0);
  });
});
