import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { tempDir } from '../testing/temp-dir.js';
import { MAX_BLOCK_LENGTH, ServedTorrent } from './served-torrent.js';

const HASH = 'ab'.repeat(20);

describe('a served torrent', () => {
  const dir = tempDir('served-torrent');
  const content = randomBytes(10 * 16384 + 100); // 11 pieces of 16 KiB, the last 100 bytes
  const file = path.join(dir, 'content');
  writeFileSync(file, content);
  const spec = { infoHash: HASH, path: file, pieceLength: 16384, length: content.length };

  test('the bitfield has a bit per piece, high bit first, spare bits zero', async () => {
    const torrent = await ServedTorrent.open(spec);
    try {
      assert.equal(torrent.pieceCount, 11);
      assert.equal(torrent.bitfield.toString('hex'), 'ffe0');
    } finally {
      await torrent.close();
    }
  });

  test('requests inside the content are read from the file; any other is refused with a reason', async () => {
    const torrent = await ServedTorrent.open(spec);
    try {
      assert.deepEqual(await torrent.read(3, 100, 5000), content.subarray(3 * 16384 + 100, 3 * 16384 + 5100));
      assert.deepEqual(await torrent.read(10, 0, 100), content.subarray(10 * 16384));
      assert.equal(torrent.checkRequest(10, 0, 100), null);
      assert.equal(torrent.checkRequest(0, 0, 16384), null);
      assert.match(torrent.checkRequest(11, 0, 1) ?? '', /past the last/);
      assert.match(torrent.checkRequest(10, 0, 101) ?? '', /past piece/);
      assert.match(torrent.checkRequest(0, 16000, 1000) ?? '', /past piece/);
      assert.match(torrent.checkRequest(0, 0, 0) ?? '', /block length/);
      assert.match(torrent.checkRequest(0, 0, MAX_BLOCK_LENGTH + 1) ?? '', /block length/);
      assert.match(torrent.checkRequest(0, 0, 0x40000000) ?? '', /block length/);
      assert.match(torrent.checkRequest(0xffffffff, 0xffffffff, 16384) ?? '', /past the last/);
      // As bittorrent-protocol hands over 0xffffffff etc. (its 32-bit reads are signed):
      assert.match(torrent.checkRequest(-1, 0, 16384) ?? '', /not non-negative/);
      assert.match(torrent.checkRequest(0, -16384, 16384) ?? '', /not non-negative/);
      assert.match(torrent.checkRequest(0, 0, -1) ?? '', /not non-negative/);
    } finally {
      await torrent.close();
    }
  });

  test('a file of another size than the torrent is refused', async () => {
    await assert.rejects(ServedTorrent.open({ ...spec, length: content.length + 1 }), /holds/);
    await assert.rejects(ServedTorrent.open({ ...spec, infoHash: 'XY' }), RangeError);
  });
});
