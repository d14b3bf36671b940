import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { tempDir } from '../testing/temp-dir.js';
import { ContentStore, SizeLimitError } from './content-store.js';

const MiB = 1024 * 1024;

/** `total` bytes in 64 KiB chunks, each byte its offset mod 251, noting the most bytes the store's file ever held. */
function source(total: number, watch?: () => void): Readable {
  let sent = 0;
  return new Readable({
    read() {
      watch?.();
      if (sent >= total) {
        this.push(null);
        return;
      }
      const size = Math.min(64 * 1024, total - sent);
      const chunk = Buffer.alloc(size);
      for (let i = 0; i < size; i++) chunk[i] = (sent + i) % 251;
      sent += size;
      this.push(chunk);
    },
  });
}

const sha = (total: number): string => {
  const hash = createHash('sha256');
  const all = Buffer.alloc(total);
  for (let i = 0; i < total; i++) all[i] = i % 251;
  return hash.update(all).digest('hex');
};

describe('the content store', () => {
  test('a stream is stored under ab/cd/<sha256>, hashed while written', async () => {
    const store = new ContentStore(tempDir('content-store'));
    const stored = await store.ingest(source(3 * MiB + 17), 10 * MiB);
    assert.equal(stored.sha256, sha(3 * MiB + 17));
    assert.equal(stored.size, 3 * MiB + 17);
    assert.equal(
      stored.path,
      path.join(store.root, stored.sha256.slice(0, 2), stored.sha256.slice(2, 4), stored.sha256),
    );
    assert.equal(statSync(stored.path).size, 3 * MiB + 17);
    assert.equal(stored.fresh, true);
    assert.deepEqual(readdirSync(path.join(store.root, 'tmp')), [], 'no partial file left');
  });

  test('the same bytes twice: one copy', async () => {
    const store = new ContentStore(tempDir('content-store'));
    const first = await store.ingest(source(MiB), 10 * MiB);
    const second = await store.ingest(source(MiB), 10 * MiB);
    assert.equal(second.path, first.path);
    assert.equal(second.fresh, false);
    const dirs = readdirSync(store.root).filter((name) => name !== 'tmp');
    assert.deepEqual(dirs, [first.sha256.slice(0, 2)]);
    assert.deepEqual(readdirSync(path.join(store.root, 'tmp')), []);
  });

  test('a 40 MiB stream with a 10 MiB limit fails while streaming; the file never exceeds the limit and is removed', async () => {
    const store = new ContentStore(tempDir('content-store'));
    let largest = 0;
    const tmp = path.join(store.root, 'tmp');
    const watch = (): void => {
      for (const name of safeList(tmp)) largest = Math.max(largest, statSync(path.join(tmp, name)).size);
    };
    let pulled = 0;
    const stream = source(40 * MiB, () => {
      pulled++;
      watch();
    });
    await assert.rejects(store.ingest(stream, 10 * MiB), SizeLimitError);
    assert.ok(largest <= 10 * MiB, `the partial file reached ${String(largest)} bytes`);
    assert.ok(pulled * 64 * 1024 < 12 * MiB, `the source was read on after the limit: ${String(pulled)} chunks`);
    assert.deepEqual(safeList(tmp), [], 'the partial file is gone');
    assert.equal(readdirSync(store.root).length, 1, 'nothing but tmp/');
  });

  test('exactly at the limit is accepted', async () => {
    const store = new ContentStore(tempDir('content-store'));
    assert.equal((await store.ingest(source(MiB), MiB)).size, MiB);
  });

  test('an abort mid-stream (cancel) removes the partial file', async () => {
    const store = new ContentStore(tempDir('content-store'));
    const abort = new AbortController();
    let chunks = 0;
    const stream = source(40 * MiB, () => {
      if (++chunks === 20) abort.abort();
    });
    await assert.rejects(store.ingest(stream, 100 * MiB, abort.signal), { name: 'AbortError' });
    assert.deepEqual(safeList(path.join(store.root, 'tmp')), []);
  });

  test('a source that fails mid-stream leaves nothing', async () => {
    const store = new ContentStore(tempDir('content-store'));
    let chunks = 0;
    const stream = source(10 * MiB, () => {
      if (++chunks === 5) stream.destroy(new Error('the route closed the connection'));
    });
    await assert.rejects(store.ingest(stream, 100 * MiB), /the route closed the connection/);
    assert.deepEqual(safeList(path.join(store.root, 'tmp')), []);
  });

  test('remove frees a content; sweep clears what a crash left', async () => {
    const store = new ContentStore(tempDir('content-store'));
    const stored = await store.ingest(source(1000), MiB);
    assert.equal(await store.has(stored.sha256), true);
    // A crash between writing the torrent's part file and renaming it leaves `<hash>.torrent.part` beside it.
    writeFileSync(`${stored.path}.torrent.part`, 'd4:infoe');
    await store.remove(stored.sha256);
    assert.equal(await store.has(stored.sha256), false);
    assert.deepEqual(safeList(path.dirname(stored.path)), [], 'the content, its torrent and a torrent part file');
    await store.sweep();
    assert.deepEqual(safeList(path.join(store.root, 'tmp')), []);
  });
});

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
