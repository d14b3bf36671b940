import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { tempDir } from '../testing/temp-dir.js';
import { FileReadError, readRegularFile } from './read-regular-file.js';

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

async function refusal(file: string, maxBytes = 4096): Promise<FileReadError> {
  const error = await readRegularFile(file, maxBytes).catch((e: unknown) => e);
  assert.ok(error instanceof FileReadError, `expected a FileReadError for ${file}, got ${String(error)}`);
  return error;
}

// A guard, not a timing: without it a FIFO that hangs would hang the whole test run.
const GUARD = { timeout: 20_000 };

describe('readRegularFile', () => {
  test('reads a plain file whole', async () => {
    assert.equal((await readRegularFile(plain, 4096)).toString(), 'hello\n');
  });

  test('a file of exactly maxBytes is read; one byte more is refused before reading', async () => {
    assert.equal((await readRegularFile(big, 4097)).length, 4097);
    const error = await refusal(big, 4096);
    assert.equal(error.reason, 'too-large');
    assert.match(error.message, /larger than 4096 bytes/);
  });

  const REFUSED: readonly [string, string, FileReadError['reason'], RegExp][] = [
    ['a FIFO (no writer: opening it would wait forever)', fifo, 'not-regular', /a FIFO/],
    ['a directory', subdir, 'not-regular', /a directory/],
    ['/dev/zero (endless)', '/dev/zero', 'system-path', /kernel or device file/],
    ['/dev/stdin', '/dev/stdin', 'system-path', /kernel or device file/],
    ['/proc/self/status (claims size 0)', '/proc/self/status', 'system-path', /kernel or device file/],
    ['a symbolic link into /proc', linkToProc, 'system-path', /\/proc\/\d+\/environ/],
    ['/sys/kernel/mm', '/sys/kernel/mm', 'system-path', /kernel or device file/],
    ['a missing file', path.join(dir, 'missing.yaml'), 'unreadable', /does not exist/],
  ];
  for (const [name, file, reason, message] of REFUSED) {
    test(`refuses ${name}`, GUARD, async () => {
      const error = await refusal(file);
      assert.equal(error.reason, reason);
      assert.match(error.message, message);
    });
  }
});
