import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { TorfleetError } from '../errors.js';
import { createFileSource } from '../fleet-source/file-source.js';
import { cleanEnv, TORFLEET_BIN } from '../testing/run-cli.js';
import { tempDir } from '../testing/temp-dir.js';

const run = promisify(execFile);
const dir = tempDir('fleet-input');
const fifo = path.join(dir, 'fleet.yaml.fifo');
execFileSync('mkfifo', [fifo]);
mkdirSync(path.join(dir, 'fleet.d'));
const huge = path.join(dir, 'huge.yaml');
writeFileSync(huge, Buffer.alloc(2 * 1024 * 1024, '#'));

// A reader stuck in open(2) on the FIFO (the defect) is released by a writer, so this file can always end.
after(() => {
  if (existsSync(fifo)) closeSync(openSync(fifo, 'r+'));
});

/** `torfleet validate --no-nodes FILE`; the guard kills a validate that hangs instead of hanging the run. */
async function validate(file: string): Promise<{ code: number | string; stderr: string }> {
  try {
    await run(process.execPath, [TORFLEET_BIN, 'validate', '--no-nodes', file], {
      env: cleanEnv(),
      timeout: 20_000,
    });
    return { code: 0, stderr: '' };
  } catch (error) {
    const failed = error as { code: number | string; signal?: string; stderr: string };
    return { code: failed.signal ?? failed.code, stderr: failed.stderr };
  }
}

describe('a fleet file that is not a plain file is refused up front', () => {
  const CASES: readonly [string, string, RegExp][] = [
    ['a FIFO (used to hang)', fifo, /is a FIFO \(named pipe\), not a regular file/],
    ['/dev/zero (used to read ~512 MB first)', '/dev/zero', /is a device, not a regular file \(\/dev\/zero\)/],
    ['a directory', path.join(dir, 'fleet.d'), /is a directory, not a regular file/],
    ['/proc/self/status', '/proc/self/status', /is a kernel file, not a regular file/],
    ['a file over 1 MiB', huge, /larger than 1048576 bytes/],
  ];
  for (const [name, file, message] of CASES) {
    test(`validate ${name}`, async () => {
      const { code, stderr } = await validate(file);
      assert.equal(code, 1, stderr);
      assert.match(stderr, message);
      assert.ok(stderr.includes(file), 'the message names the file');
    });
  }

  test('the run-time file source refuses a FIFO too', async () => {
    const error = await createFileSource(fifo)
      .read()
      .catch((e: unknown) => e);
    assert.ok(error instanceof TorfleetError);
    assert.equal(error.code, 'FLEET_UNREADABLE');
    assert.match(error.message, /a FIFO/);
  });
});
