/**
 * For materialise-test-data.test.ts: `node materialise-test-data-child.js SOURCE CACHE` materialises the data
 * and, right after (while its siblings may still be writing), prints `<name> <sha256 of what it reads>` a line.
 */
import { readFileSync } from 'node:fs';
import { materialiseTestData, sha256Of } from './materialise-test-data.js';

const [source, cache] = process.argv.slice(2);
for (const [name, file] of materialiseTestData(source ?? '', cache ?? '')) {
  process.stdout.write(`${name} ${sha256Of(readFileSync(file))}\n`);
}
