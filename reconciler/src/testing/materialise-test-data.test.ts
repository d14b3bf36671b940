import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { brotliCompressSync } from 'node:zlib';
import { materialiseTestData, readChecksums, sha256Of } from './materialise-test-data.js';
import { sharedDataDir } from './shared-data.js';
import { tempDir } from './temp-dir.js';

const run = promisify(execFile);

/** A data folder like testdata/tor-2022-11-19 holding the given files, brotli-compressed, with their SHA256SUMS. */
function dataFolder(files: Record<string, string>): string {
  const dir = tempDir('td-data');
  const sums = Object.entries(files).map(([name, text]) => {
    writeFileSync(path.join(dir, `${name}.br`), brotliCompressSync(Buffer.from(text)));
    return `${sha256Of(Buffer.from(text))}  ${name}\n`;
  });
  writeFileSync(path.join(dir, 'SHA256SUMS'), sums.join(''));
  return dir;
}

describe('materialiseTestData', () => {
  test('decompresses every listed file into the cache, then reuses the verified copy', () => {
    const source = dataFolder({ 'cached-consensus': 'network-status-version 3\n', geoip: '1,2,US\n' });
    const cache = path.join(tempDir('td-cache'), 'tor');
    const files = materialiseTestData(source, cache);
    assert.deepEqual([...files.keys()], ['cached-consensus', 'geoip']);
    assert.equal(readFileSync(files.get('geoip') ?? '', 'utf8'), '1,2,US\n');
    const inode = statSync(files.get('geoip') ?? '').ino;
    materialiseTestData(source, cache);
    assert.equal(statSync(files.get('geoip') ?? '').ino, inode, 'a verified cached copy is not rewritten');
    assert.deepEqual(readdirSync(cache).sort(), ['cached-consensus', 'geoip'], 'no temp file left behind');
  });

  test('a damaged cached copy is replaced by a good one', () => {
    const source = dataFolder({ geoip: '1,2,US\n3,4,DE\n' });
    const cache = tempDir('td-cache');
    const geoip = materialiseTestData(source, cache).get('geoip') ?? '';
    writeFileSync(geoip, '1,2,US\n'); // as if an earlier writer had been cut off
    materialiseTestData(source, cache);
    assert.equal(readFileSync(geoip, 'utf8'), '1,2,US\n3,4,DE\n');
  });

  test('data that does not match SHA256SUMS is refused, saying which file and what to do', () => {
    const source = dataFolder({ geoip: '1,2,US\n' });
    writeFileSync(path.join(source, 'geoip.br'), brotliCompressSync(Buffer.from('1,2,DE\n')));
    assert.throws(
      () => materialiseTestData(source, tempDir('td-cache')),
      /test data .*geoip\.br decompresses to sha256 [0-9a-f]{64}, but SHA256SUMS lists [0-9a-f]{64}; restore the file with git checkout/,
    );
  });

  // [case, file in the data folder, its new content (null: removed), the error]
  for (const [name, file, content, expected] of [
    ['a file that is not brotli', 'geoip.br', 'plain', /cannot be read as brotli \(.*\); restore it with git checkout/],
    ['a missing SHA256SUMS', 'SHA256SUMS', null, /checksums .*SHA256SUMS cannot be read/],
    ['a bad SHA256SUMS line', 'SHA256SUMS', 'abc geoip\n', /SHA256SUMS line 1 is not "<sha256> {2}<file name>"/],
  ] as const) {
    test(name, () => {
      const source = dataFolder({ geoip: '1,2,US\n' });
      if (content === null) rmSync(path.join(source, file));
      else writeFileSync(path.join(source, file), content);
      assert.throws(() => materialiseTestData(source, tempDir('td-cache')), expected);
    });
  }

  test('processes materialising the same cache at once each see only complete files', async () => {
    const source = dataFolder({ big: 'x'.repeat(4_000_000), geoip: '1,2,US\n'.repeat(100_000) });
    const cache = tempDir('td-cache');
    const child = fileURLToPath(new URL('./materialise-test-data-child.js', import.meta.url));
    const results = await Promise.all([1, 2, 3, 4].map(() => run(process.execPath, [child, source, cache])));
    const expected = readChecksums(source).map(({ name, sha256 }) => `${name} ${sha256}`);
    for (const { stdout } of results) assert.deepEqual(stdout.trim().split('\n'), expected);
  });
});

describe('the repository test data (testdata/tor-2022-11-19)', () => {
  test('SOURCES.md gives the checksums SHA256SUMS lists, and the tests read the data from inside the repository', () => {
    const sources = readFileSync(path.join(sharedDataDir, 'SOURCES.md'), 'utf8');
    const checksums = readChecksums(sharedDataDir);
    assert.deepEqual(
      checksums.map(({ name }) => name),
      ['cached-consensus', 'geoip'],
    );
    for (const { name, sha256 } of checksums) assert.match(sources, new RegExp(`\`${name}\` ${sha256}`));
  });
});
