import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../testing/temp-dir.js';
import { waitFor } from '../wait-for.js';
import { watchFile } from './triggers.js';

/** The fleet file's watcher keeps hearing it through what operators and tools do to a file. */
const dir = tempDir('watch-file');

test('a deleted and re-created file, a directory, a FIFO in its place: each heard, and the file after them', async () => {
  const file = path.join(dir, 'fleet.yaml');
  writeFileSync(file, 'a\n');
  let fired = 0;
  const stop = watchFile(file, () => fired++);
  const heard = async (change: () => void): Promise<void> => {
    const before = fired;
    change();
    await waitFor('the watcher', () => fired > before || undefined, 5000);
  };
  try {
    await new Promise((resolve) => setTimeout(resolve, 200)); // the watcher's initial scan
    await heard(() => {
      rmSync(file);
      writeFileSync(file, 'b\n'); // heard; everything after went unheard with a watch on the file's path
    });
    await heard(() => {
      rmSync(file);
      mkdirSync(file);
    });
    await heard(() => {
      rmSync(file, { recursive: true });
      execFileSync('mkfifo', [file]);
    });
    await heard(() => {
      rmSync(file);
      writeFileSync(file, 'c\n');
    });
    const before = fired;
    writeFileSync(path.join(dir, 'other.yaml'), 'x\n');
    await heard(() => {
      writeFileSync(file, 'd\n');
    });
    assert.equal(fired, before + 1, 'another file in the directory is not the fleet file');
  } finally {
    await stop();
  }
});
