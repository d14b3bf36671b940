import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { batchedLines } from './log-lines.js';

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('batchedLines', () => {
  test('the lines of one turn leave in one write, in order; flush writes at once', async () => {
    const writes: string[] = [];
    const lines = batchedLines((text) => writes.push(text));
    lines('a\n');
    lines('b\n');
    assert.deepEqual(writes, [], 'nothing before the turn ends');
    await turn();
    assert.deepEqual(writes, ['a\nb\n']);
    lines('c\n');
    lines.flush();
    assert.deepEqual(writes, ['a\nb\n', 'c\n']);
    await turn();
    assert.deepEqual(writes, ['a\nb\n', 'c\n'], 'a flush leaves nothing for the turn');
  });

  for (const ending of ['throw new Error("boom")', 'process.exit(3)']) {
    test(`lines still waiting are written when the process ends: ${ending}`, () => {
      const module = fileURLToPath(new URL('./log-lines.js', import.meta.url));
      const script =
        `const { batchedLines } = await import(${JSON.stringify(module)});` +
        `const lines = batchedLines((text) => process.stderr.write(text));` +
        `lines('first\\n'); lines('second\\n'); ${ending};`;
      const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
      assert.match(child.stderr, /^first\nsecond\n/, child.stderr);
    });
  }
});
