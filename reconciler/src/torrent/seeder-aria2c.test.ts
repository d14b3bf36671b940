import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ARIA2C_REQUIRE_CRYPTO, runAria2c } from '../testing/aria2c.js';
import { tempDir } from '../testing/temp-dir.js';
import { startSwarm, type SharedContent, type TorrentSwarm } from '../testing/torrent-swarm.js';

// Ports of this file: trackers 29110-29111, aria2c 29120-29129 (listen) and 29130-29139 (DHT, never enabled).
const KiB = 1024;
const MiB = 1024 * KiB;
const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

function downloaded(dir: string, shared: SharedContent): Buffer {
  return readFileSync(path.join(dir, path.basename(shared.torrentFile, '.torrent')));
}

describe('aria2c downloads from the seeder via the tracker', () => {
  const dir = tempDir('seeder-aria2c');
  let swarm: TorrentSwarm;
  let small: SharedContent;
  let large: SharedContent;
  before(async () => {
    swarm = await startSwarm(path.join(dir, 'seed'), 29110);
    small = await swarm.share('small.bin', 100 * KiB);
    large = await swarm.share('large.bin', 6 * MiB + 4321);
  });
  after(async () => {
    await swarm.close();
  });

  test('a 100 KiB content, bytes matching', async () => {
    const out = path.join(dir, 'dl-small');
    const run = await runAria2c({ torrentFile: small.torrentFile, dir: out, listenPort: 29120, dhtPort: 29130 });
    assert.equal(run.code, 0, run.output);
    assert.equal(sha256(downloaded(out, small)), sha256(small.content));
  });

  test('a 6 MiB multi-piece content with encryption required (MSE/PE, RC4)', async () => {
    assert.ok(large.length / large.pieceLength > 100, 'many pieces');
    const out = path.join(dir, 'dl-crypto');
    const before = swarm.closed.length;
    const run = await runAria2c({
      torrentFile: large.torrentFile,
      dir: out,
      listenPort: 29121,
      dhtPort: 29131,
      extraArgs: ARIA2C_REQUIRE_CRYPTO,
    });
    assert.equal(run.code, 0, run.output);
    assert.equal(sha256(downloaded(out, large)), sha256(large.content));
    const sessions = swarm.closed.slice(before).filter((event) => event.infoHash === large.infoHash);
    assert.ok(sessions.length > 0);
    assert.ok(
      sessions.every((event) => event.encryption === 'rc4'),
      JSON.stringify(sessions),
    );
  });

  test('the same with aria2c offering plaintext too: the seeder takes MSE/PE and selects plaintext', async () => {
    const out = path.join(dir, 'dl-plain');
    const before = swarm.closed.length;
    const run = await runAria2c({
      torrentFile: large.torrentFile,
      dir: out,
      listenPort: 29122,
      dhtPort: 29132,
      extraArgs: ['--bt-min-crypto-level=plain'],
    });
    assert.equal(run.code, 0, run.output);
    assert.equal(sha256(downloaded(out, large)), sha256(large.content));
    const sessions = swarm.closed.slice(before).filter((event) => event.infoHash === large.infoHash);
    assert.ok(sessions.length > 0 && sessions.every((event) => event.encryption === 'mse-plaintext'));
  });

  test('two aria2c at once', async () => {
    const [a, b] = await Promise.all([
      runAria2c({ torrentFile: large.torrentFile, dir: path.join(dir, 'dl-a'), listenPort: 29123, dhtPort: 29133 }),
      runAria2c({ torrentFile: large.torrentFile, dir: path.join(dir, 'dl-b'), listenPort: 29124, dhtPort: 29134 }),
    ]);
    assert.equal(a.code, 0, a.output);
    assert.equal(b.code, 0, b.output);
    assert.equal(sha256(downloaded(path.join(dir, 'dl-a'), large)), sha256(large.content));
    assert.equal(sha256(downloaded(path.join(dir, 'dl-b'), large)), sha256(large.content));
  });
});

describe('the upload rate limit', () => {
  const dir = tempDir('seeder-rate');
  let swarm: TorrentSwarm;
  before(async () => {
    swarm = await startSwarm(path.join(dir, 'seed'), 29111, { uploadRateBytesPerSecond: 1 * MiB });
  });
  after(async () => {
    await swarm.close();
  });

  test('at 1 MiB/s a 3 MiB content takes at least 2 s, and the bytes sent over time stay under the rate', async () => {
    const shared = await swarm.share('limited.bin', 3 * MiB);
    const samples: { at: number; bytes: number }[] = [];
    const started = Date.now();
    const sampler = setInterval(() => {
      samples.push({ at: Date.now() - started, bytes: swarm.seeder.stats().bytesUploaded });
    }, 100);
    const out = path.join(dir, 'dl');
    const run = await runAria2c({ torrentFile: shared.torrentFile, dir: out, listenPort: 29125, dhtPort: 29135 });
    clearInterval(sampler);
    assert.equal(run.code, 0, run.output);
    assert.equal(sha256(downloaded(out, shared)), sha256(shared.content));
    const first = samples.find((sample) => sample.bytes > 0);
    const last = samples.at(-1);
    assert.ok(first !== undefined && last !== undefined);
    const sendingMs = Date.now() - started - first.at;
    assert.ok(sendingMs >= 2000, `sent 3 MiB in ${String(sendingMs)} ms`);
    // Generous: at any sample, no more than the burst (256 KiB) plus 1.5x the rate for the time since sending began.
    for (const sample of samples) {
      const allowed = 256 * KiB + 1.5 * MiB * Math.max(0, (sample.at - first.at + 100) / 1000) + 128 * KiB;
      assert.ok(sample.bytes <= allowed, `${String(sample.bytes)} bytes by ${String(sample.at)} ms`);
    }
  });
});
