import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import bencode from 'bencode';
import { tempDir } from '../testing/temp-dir.js';
import { magnetOf, makeTorrent, parseTorrentInfo } from './torrent-file.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
const ANNOUNCE = 'http://127.0.0.1:8091/announce';

describe('makeTorrent', () => {
  const dir = tempDir('torrent-file');

  test('a private one-file torrent of the content, announcing only to the service tracker', async () => {
    const content = randomBytes(100 * KiB);
    const file = path.join(dir, 'content-a');
    writeFileSync(file, content);
    const made = await makeTorrent({ contentPath: file, name: 'report.pdf', announceUrl: ANNOUNCE });
    const info = parseTorrentInfo(made.torrent);
    assert.equal(info.private, true);
    assert.equal(info.name, 'report.pdf');
    assert.equal(info.length, content.length);
    assert.equal(made.length, content.length);
    assert.equal(info.announce, ANNOUNCE);
    assert.deepEqual(info.announceList, [[ANNOUNCE]]);
    assert.match(made.infoHash, /^[0-9a-f]{40}$/);
    assert.equal(info.infoHash, made.infoHash);
    const meta = bencode.decode(made.torrent) as Record<string, unknown>;
    assert.equal(meta['creation date'], undefined);
    assert.equal(meta['url-list'], undefined);
    const infoDict = meta.info as Record<string, unknown>;
    assert.equal(infoDict.files, undefined, 'one file: no files list');
    // Each piece hash is the SHA-1 of that piece of the content.
    const pieces = infoDict.pieces as Uint8Array;
    for (let i = 0; i * made.pieceLength < content.length; i++) {
      const piece = content.subarray(i * made.pieceLength, (i + 1) * made.pieceLength);
      assert.equal(
        Buffer.from(pieces.subarray(i * 20, i * 20 + 20)).toString('hex'),
        createHash('sha1').update(piece).digest('hex'),
      );
    }
  });

  test('the same content, name and tracker give the same bytes and infohash; another name another infohash', async () => {
    const file = path.join(dir, 'content-b');
    writeFileSync(file, randomBytes(40 * KiB));
    const first = await makeTorrent({ contentPath: file, name: 'x.bin', announceUrl: ANNOUNCE });
    await new Promise((resolve) => setTimeout(resolve, 1100)); // past a second: a creation date would differ
    const second = await makeTorrent({ contentPath: file, name: 'x.bin', announceUrl: ANNOUNCE });
    assert.equal(second.infoHash, first.infoHash);
    assert.deepEqual(second.torrent, first.torrent);
    const renamed = await makeTorrent({ contentPath: file, name: 'y.bin', announceUrl: ANNOUNCE });
    assert.notEqual(renamed.infoHash, first.infoHash);
  });

  test('piece length: 16 KiB for 1 KiB and 10 MiB, 1 MiB for 1 GiB (create-torrent default, at most 4 MiB)', async () => {
    const cases: [number, number][] = [
      [1 * KiB, 16 * KiB],
      [10 * MiB, 16 * KiB],
      [1 * GiB, 1 * MiB],
    ];
    for (const [size, pieceLength] of cases) {
      const file = path.join(dir, `sparse-${String(size)}`);
      writeFileSync(file, '');
      truncateSync(file, size); // sparse: cheap to make, read as zeros
      const made = await makeTorrent({ contentPath: file, name: 'big', announceUrl: ANNOUNCE });
      assert.equal(made.pieceLength, pieceLength, `size ${String(size)}`);
      assert.equal(parseTorrentInfo(made.torrent).pieceCount, Math.ceil(size / pieceLength));
    }
  });

  test('an empty content or a name with a slash is refused', async () => {
    const empty = path.join(dir, 'empty');
    writeFileSync(empty, '');
    await assert.rejects(makeTorrent({ contentPath: empty, name: 'e', announceUrl: ANNOUNCE }), /empty/);
    await assert.rejects(makeTorrent({ contentPath: empty, name: 'a/b', announceUrl: ANNOUNCE }), RangeError);
  });
});

describe('magnetOf', () => {
  test('xt, dn, xl and tr, each percent-encoded', () => {
    const infoHash = 'a'.repeat(40);
    assert.equal(
      magnetOf({ infoHash, name: 'my file & more?.pdf', length: 1234, announceUrl: 'http://127.0.0.1:8091/announce' }),
      `magnet:?xt=urn:btih:${infoHash}&dn=my%20file%20%26%20more%3F.pdf&xl=1234` +
        '&tr=http%3A%2F%2F127.0.0.1%3A8091%2Fannounce',
    );
    assert.throws(() => magnetOf({ infoHash: 'XYZ', name: 'n', length: 1, announceUrl: ANNOUNCE }), RangeError);
  });
});

describe('parseTorrentInfo', () => {
  test('garbage and a multi-file torrent are refused', () => {
    assert.throws(() => parseTorrentInfo(Buffer.from('not bencode')));
    assert.throws(() => parseTorrentInfo(bencode.encode({ info: { name: 'x', 'piece length': 16384 } })), RangeError);
  });
});
