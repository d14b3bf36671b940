import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { tempDir } from '../testing/temp-dir.js';
import { escapeControl, TOR_LOG_FILE, torLogTail } from './tor-log.js';

describe('torLogTail: the end of a proxy tor log, bounded and safe to show', () => {
  const dir = tempDir('tor-log');
  const write = (text: string): void => {
    writeFileSync(path.join(dir, TOR_LOG_FILE), text);
  };

  test('the last 20 lines', async () => {
    write(Array.from({ length: 50 }, (_, i) => `Dec 01 [notice] line ${i}`).join('\n') + '\n');
    const tail = await torLogTail(dir);
    assert.equal(tail.length, 20);
    assert.deepEqual([tail[0], tail[19]], ['Dec 01 [notice] line 30', 'Dec 01 [notice] line 49']);
  });

  test('control characters are escaped, long lines cut, and a partial first line dropped', async () => {
    write(`${'x'.repeat(40)}\nred \u001b[31malert\r forged\u0085\n${'y'.repeat(400)}\n`);
    const tail = await torLogTail(dir, { bytes: 430, lineLength: 100 });
    assert.deepEqual(tail, ['red \\x1b[31malert\\x0d forged\\x85', `${'y'.repeat(99)}…`]);
  });

  test('no log yet: no lines', async () => {
    assert.deepEqual(await torLogTail(path.join(dir, 'nowhere')), []);
  });

  test("a FIFO in place of the log (the data directory is tor's to write) is refused at once, not waited on", async () => {
    const fifoDir = path.join(dir, 'fifo');
    mkdirSync(fifoDir);
    execFileSync('mkfifo', [path.join(fifoDir, TOR_LOG_FILE)]);
    await assert.rejects(torLogTail(fifoDir), /notice\.log is a FIFO \(named pipe\), not a regular file/);
  });

  test('escapeControl keeps printable text as it is', () => {
    assert.equal(escapeControl('Bootstrapped 50% (loading_descriptors) ü'), 'Bootstrapped 50% (loading_descriptors) ü');
  });
});
