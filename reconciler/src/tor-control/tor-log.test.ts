import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
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

  test('escapeControl keeps printable text as it is', () => {
    assert.equal(escapeControl('Bootstrapped 50% (loading_descriptors) ü'), 'Bootstrapped 50% (loading_descriptors) ü');
  });
});
