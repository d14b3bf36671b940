import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { tempDir } from '../testing/temp-dir.js';
import { FileReadError, readRegularFile, readRegularFileSync, withRegularFileSync } from './read-regular-file.js';

const dir = tempDir('read-regular');
const fifo = path.join(dir, 'fleet.fifo');
execFileSync('mkfifo', [fifo]);
const plain = path.join(dir, 'plain.txt');
writeFileSync(plain, 'hello\n');
const big = path.join(dir, 'big.txt');
writeFileSync(big, Buffer.alloc(4097, 'a'));
const subdir = path.join(dir, 'sub');
mkdirSync(subdir);
const linkToProc = path.join(dir, 'environ');
symlinkSync('/proc/self/environ', linkToProc);

/** The one reader, both ways: the async one and its sync twin give the same answers. */
const READERS: readonly [string, (file: string, maxBytes: number) => Promise<Buffer>][] = [
  ['readRegularFile', readRegularFile],
  ['readRegularFileSync', (file, maxBytes) => Promise.resolve().then(() => readRegularFileSync(file, maxBytes))],
];

async function refusal(file: string, maxBytes = 4096, read = readRegularFile): Promise<FileReadError> {
  const error = await read(file, maxBytes).catch((e: unknown) => e);
  assert.ok(error instanceof FileReadError, `expected a FileReadError for ${file}, got ${String(error)}`);
  return error;
}

// A guard, not a timing: without it a FIFO that hangs would hang the whole test run.
const GUARD = { timeout: 20_000 };

for (const [readerName, read] of READERS)
  describe(readerName, () => {
    test('reads a plain file whole', async () => {
      assert.equal((await read(plain, 4096)).toString(), 'hello\n');
    });

    test('a file of exactly maxBytes is read; one byte more is refused before reading', async () => {
      assert.equal((await read(big, 4097)).length, 4097);
      const error = await refusal(big, 4096, read);
      assert.equal(error.reason, 'too-large');
      assert.match(error.message, /larger than 4096 bytes/);
    });

    const REFUSED: readonly [string, string, FileReadError['reason'], RegExp][] = [
      ['a FIFO (no writer: opening it would wait forever)', fifo, 'not-regular', /a FIFO/],
      ['a directory', subdir, 'not-regular', /a directory/],
      ['/dev/zero (endless)', '/dev/zero', 'system-path', /is a device, not a regular file \(\/dev\/zero\)/],
      ['/dev/stdin', '/dev/stdin', 'system-path', /is a device, not a regular file/],
      ['/proc/self/status (claims size 0)', '/proc/self/status', 'system-path', /is a kernel file, not a regular file/],
      ['a symbolic link into /proc', linkToProc, 'system-path', /\/proc\/\d+\/environ/],
      ['/sys/kernel/mm', '/sys/kernel/mm', 'system-path', /is a kernel file/],
      ['a missing file', path.join(dir, 'missing.yaml'), 'unreadable', /does not exist/],
    ];
    for (const [name, file, reason, message] of REFUSED) {
      test(`refuses ${name}`, GUARD, async () => {
        const error = await refusal(file, 4096, read);
        assert.equal(error.reason, reason);
        assert.match(error.message, message);
      });
    }
  });

describe('withRegularFileSync', () => {
  test('gives the stats first and reads only when asked', () => {
    assert.equal(
      withRegularFileSync(big, 4097, (opened) => opened.stats.size),
      4097,
    );
    assert.equal(
      withRegularFileSync(plain, 4096, (opened) => opened.read().toString()),
      'hello\n',
    );
  });

  test("the callback's own errors pass through unchanged", () => {
    assert.throws(
      () =>
        withRegularFileSync(plain, 4096, () => {
          throw new RangeError('mine');
        }),
      RangeError,
    );
  });

  test('a refusal said of a subject reads as one sentence', async () => {
    assert.equal(
      (await refusal('/dev/zero')).about('the GeoIP file'),
      'the GeoIP file is a device, not a regular file (/dev/zero)',
    );
  });
});
