import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { createLogger } from '../logger.js';
import { tempDir } from '../testing/temp-dir.js';
import { waitFor } from '../wait-for.js';
import { WatchedFiles } from './watched-file.js';

const parseNumber = ([text]: readonly Buffer[]) => {
  const value = Number(text?.toString().trim());
  return Number.isInteger(value)
    ? { ok: true as const, value }
    : { ok: false as const, errors: ['not a whole number'] };
};

test('a change made while the watcher starts is still seen; an unchanged file is not "read again"', async () => {
  const file = path.join(tempDir('watched-file'), 'value');
  writeFileSync(file, '1');
  const lines: string[] = [];
  const watched = new WatchedFiles(
    [file],
    parseNumber,
    'the value file',
    createLogger((line) => lines.push(line), 'info'),
  );
  watched.watch();
  writeFileSync(file, '2'); // at once: before the watcher is up
  try {
    await waitFor('the change', () => (watched.value === 2 ? true : undefined), 5_000);
    assert.equal(watched.reload(), false, 'nothing changed since');
    writeFileSync(file, 'three');
    await waitFor(
      'the warning',
      () => (lines.some((line) => line.includes('cannot be used')) ? true : undefined),
      5_000,
    );
    assert.equal(watched.value, 2, 'a broken change keeps the value');
    assert.equal(lines.filter((line) => line.includes('read again')).length, 1, lines.join('\n'));
  } finally {
    await watched.stop();
  }
});
