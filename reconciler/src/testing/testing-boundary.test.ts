import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { packagePath } from '../package-root.js';

const SRC = packagePath('reconciler', 'src');
const TESTING = path.join(SRC, 'testing');

/** Every .ts file under `dir` that is not a test (`*.test.ts`), outside testing/. */
function productFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return file === TESTING ? [] : productFiles(file);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [file] : [];
  });
}

test('testing/ holds only test helpers: no product file (the demo included) imports from it', () => {
  const offenders = productFiles(SRC).flatMap((file) =>
    [...readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*\(?\s*'(\.[^']*)'/g)]
      .map((match) => path.resolve(path.dirname(file), match[1] ?? ''))
      .filter((target) => target.startsWith(`${TESTING}${path.sep}`))
      .map((target) => `${path.relative(SRC, file)} imports ${path.relative(SRC, target)}`),
  );
  assert.ok(productFiles(SRC).some((file) => file.endsWith(path.join('demo', 'demo.ts'))));
  assert.deepEqual(offenders, []);
});
