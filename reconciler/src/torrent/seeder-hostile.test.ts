import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runAria2c } from '../testing/aria2c.js';
import { handshakeBytes, messageBytes, RawBtPeer } from '../testing/raw-bt-peer.js';
import { tempDir } from '../testing/temp-dir.js';
import { startSwarm, type SharedContent, type TorrentSwarm } from '../testing/torrent-swarm.js';

// Ports of this file: trackers 29140-29142, aria2c 29150-29152 (listen) and 29160-29162 (DHT, never enabled).
const KiB = 1024;
const BLOCK = 16 * KiB;
const INTERESTED = messageBytes(2);
const peerId = (): Buffer => Buffer.concat([Buffer.from('-RAW000-'), randomBytes(12)]);
const request = (index: number, offset: number, length: number): Buffer => messageBytes(6, index, offset, length);
const cancel = (index: number, offset: number, length: number): Buffer => messageBytes(8, index, offset, length);
const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

async function reasonFor(swarm: TorrentSwarm, peer: RawBtPeer): Promise<string> {
  const remote = `127.0.0.1:${String(peer.localPort)}`;
  const deadline = Date.now() + 5000;
  for (;;) {
    const event = swarm.closed.find((e) => e.remote === remote);
    if (event !== undefined) return event.reason;
    if (Date.now() > deadline) return '(not closed by the seeder)';
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A raw peer that has handshaken for `shared`, said it is interested and been unchoked. */
async function unchokedPeer(swarm: TorrentSwarm, shared: SharedContent): Promise<RawBtPeer> {
  const peer = new RawBtPeer(swarm.seederPort);
  await peer.connected();
  peer.write(handshakeBytes(shared.infoHash, peerId()));
  peer.write(INTERESTED);
  await peer.until(() => peer.messages.some((m) => m.id === 1), 5000);
  return peer;
}

async function aria2cGets(swarm: TorrentSwarm, shared: SharedContent, dir: string, port: number): Promise<void> {
  const run = await runAria2c({ torrentFile: shared.torrentFile, dir, listenPort: port, dhtPort: port + 10 });
  assert.equal(run.code, 0, run.output);
  assert.equal(
    sha256(readFileSync(path.join(dir, path.basename(shared.torrentFile, '.torrent')))),
    sha256(shared.content),
  );
  assert.ok(swarm.seeder.stats().bytesUploaded >= shared.length);
}

describe('the seeder against hostile peers', () => {
  const dir = tempDir('seeder-hostile');
  let swarm: TorrentSwarm;
  let shared: SharedContent;
  before(async () => {
    swarm = await startSwarm(path.join(dir, 'seed'), 29140, { handshakeTimeoutMs: 1000 });
    shared = await swarm.share('content.bin', 5 * BLOCK + 1000); // 6 pieces of 16 KiB, the last 1000 bytes
    assert.equal(shared.pieceLength, BLOCK);
  });
  after(async () => {
    await swarm.close();
  });

  test('a well-behaved raw peer: handshake back, every piece in the bitfield, unchoke, the requested bytes', async () => {
    const peer = await unchokedPeer(swarm, shared);
    assert.ok(peer.handshake);
    assert.equal(peer.handshake.subarray(28, 48).toString('hex'), shared.infoHash);
    assert.deepEqual(peer.handshake.subarray(48), swarm.seeder.peerId);
    const bitfield = peer.messages.find((m) => m.id === 5);
    assert.equal(bitfield?.payload.toString('hex'), 'fc');
    peer.write(request(2, 100, 5000));
    peer.write(request(5, 0, 1000));
    await peer.until(() => peer.pieces().length === 2, 5000);
    assert.deepEqual(peer.pieces()[0]?.block, shared.content.subarray(2 * BLOCK + 100, 2 * BLOCK + 5100));
    assert.deepEqual(peer.pieces()[1]?.block, shared.content.subarray(5 * BLOCK));
    assert.equal(swarm.seeder.stats().activePeers, 1);
    peer.destroy();
  });

  test('garbage instead of a handshake (read as an MSE/PE key) is closed', async () => {
    const peer = new RawBtPeer(swarm.seederPort);
    await peer.connected();
    peer.write(randomBytes(700));
    await peer.closed(5000);
    assert.match(await reasonFor(swarm, peer), /protocol error|handshake timeout|wire closed/);
  });

  test('an MSE/PE key of all 0xff bytes (out of the DH group) is closed without a crash', async () => {
    const peer = new RawBtPeer(swarm.seederPort);
    await peer.connected();
    peer.write(Buffer.alloc(96, 0xff));
    peer.write(randomBytes(600));
    await peer.closed(5000);
    assert.match(await reasonFor(swarm, peer), /./);
  });

  test('half a handshake and then silence is closed by the handshake timeout', async () => {
    const peer = new RawBtPeer(swarm.seederPort);
    await peer.connected();
    const started = Date.now();
    peer.write(handshakeBytes(shared.infoHash, peerId()).subarray(0, 30));
    await peer.closed(5000);
    assert.ok(Date.now() - started >= 800, 'not before the timeout');
    assert.equal(await reasonFor(swarm, peer), 'handshake timeout');
  });

  test('a handshake for an unknown infohash is closed', async () => {
    const peer = new RawBtPeer(swarm.seederPort);
    await peer.connected();
    peer.write(handshakeBytes('00'.repeat(20), peerId()));
    await peer.closed(5000);
    assert.equal(peer.handshake, null, 'no handshake back');
    assert.equal(await reasonFor(swarm, peer), 'unknown torrent');
  });

  const badRequests: [string, Buffer, RegExp][] = [
    ['a piece past the last', request(6, 0, 1000), /past the last/],
    ['a block past the end of the last piece', request(5, 0, 1001), /past piece/],
    ['a block past the end of a piece', request(1, BLOCK - 10, 20), /past piece/],
    ['a 1 GB block', request(0, 0, 1024 * 1024 * 1024), /block length/],
    ['a zero-length block', request(0, 0, 0), /block length/],
    // bittorrent-protocol reads these as -1 / -2^31: they must not slip past the range checks as negatives.
    ['piece 0xffffffff', request(0xffffffff, 0, BLOCK), /not non-negative/],
    ['offset 0x80000000 length 0x80000000', request(0, 0x80000000, 0x80000000), /not non-negative/],
  ];
  for (const [name, bytes, reason] of badRequests) {
    test(`a request for ${name} drops the peer`, async () => {
      const peer = await unchokedPeer(swarm, shared);
      peer.write(bytes);
      await peer.closed(5000);
      assert.equal(peer.pieces().length, 0);
      assert.match(await reasonFor(swarm, peer), reason);
    });
  }

  test('a flood of requests (600 at once) drops the peer past 500 waiting', async () => {
    const peer = await unchokedPeer(swarm, shared);
    peer.write(Buffer.concat(Array.from({ length: 600 }, (_, i) => request(i % 5, 0, BLOCK))));
    await peer.closed(5000);
    assert.match(await reasonFor(swarm, peer), /more than 500 requests waiting/);
  });

  test('a message announcing 2 GiB drops the peer (the package would buffer it)', async () => {
    const peer = await unchokedPeer(swarm, shared);
    const huge = Buffer.alloc(5);
    huge.writeUInt32BE(0x7fffffff, 0);
    huge[4] = 7;
    peer.write(huge);
    await peer.closed(5000);
    assert.match(await reasonFor(swarm, peer), /protocol error: message of 2147483647 bytes/);
  });

  test('a peer that disconnects mid-piece is forgotten', async () => {
    const peer = await unchokedPeer(swarm, shared);
    peer.write(Buffer.concat(Array.from({ length: 100 }, (_, i) => request(i % 5, 0, BLOCK))));
    await peer.until(() => peer.bytesReceived > 20 * KiB, 5000);
    peer.destroy();
    assert.match(await reasonFor(swarm, peer), /peer disconnected|wire closed/); // whichever of the two ends first
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(swarm.seeder.stats().connections, 0);
  });

  test('after all that, aria2c still downloads the content', async () => {
    await aria2cGets(swarm, shared, path.join(dir, 'dl'), 29150);
  });

  test('remove closes the torrent’s peers; its infohash is then unknown', async () => {
    const peer = await unchokedPeer(swarm, shared);
    await swarm.seeder.remove(shared.infoHash);
    await peer.closed(5000);
    assert.equal(await reasonFor(swarm, peer), 'torrent removed');
    const late = new RawBtPeer(swarm.seederPort);
    await late.connected();
    late.write(handshakeBytes(shared.infoHash, peerId()));
    await late.closed(5000);
    assert.equal(await reasonFor(swarm, late), 'unknown torrent');
  });
});

describe('the seeder honours cancel', () => {
  const dir = tempDir('seeder-cancel');
  let swarm: TorrentSwarm;
  before(async () => {
    // 64 KiB/s with a 128 KiB burst: the first 8 blocks go at once, the rest a quarter second apart.
    swarm = await startSwarm(path.join(dir, 'seed'), 29141, { uploadRateBytesPerSecond: 64 * KiB });
  });
  after(async () => {
    await swarm.close();
  });

  test('a cancelled request is not answered; the others are', async () => {
    const shared = await swarm.share('cancel.bin', 12 * BLOCK);
    const peer = await unchokedPeer(swarm, shared);
    peer.write(Buffer.concat(Array.from({ length: 11 }, (_, i) => request(i, 0, BLOCK))));
    peer.write(cancel(10, 0, BLOCK));
    await peer.until(() => peer.pieces().length === 10, 10_000);
    await new Promise((resolve) => setTimeout(resolve, 600)); // time for one more block at the rate
    assert.deepEqual(
      peer.pieces().map((p) => p.index),
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    );
    peer.destroy();
  });
});

describe('the seeder honours maxPeers', () => {
  const dir = tempDir('seeder-max-peers');
  let swarm: TorrentSwarm;
  before(async () => {
    swarm = await startSwarm(path.join(dir, 'seed'), 29142, { maxPeers: 2 });
  });
  after(async () => {
    await swarm.close();
  });

  test('a connection past maxPeers is closed at once; a freed slot lets aria2c in', async () => {
    const shared = await swarm.share('limit.bin', 40 * KiB);
    const first = await unchokedPeer(swarm, shared);
    const second = await unchokedPeer(swarm, shared);
    const third = new RawBtPeer(swarm.seederPort);
    third.write(handshakeBytes(shared.infoHash, peerId()));
    await third.closed(5000);
    assert.equal(third.handshake, null);
    assert.equal(await reasonFor(swarm, third), 'too many peers');
    assert.equal(swarm.seeder.stats().connections, 2);
    assert.equal(swarm.seeder.stats().activePeers, 2);
    first.destroy();
    await reasonFor(swarm, first);
    await aria2cGets(swarm, shared, path.join(dir, 'dl'), 29151);
    second.destroy();
  });
});
