import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { packagePath } from '../../package-root.js';

/**
 * The health model is pure (its clock and randomness are passed in), so the broker service can wrap it and tests
 * can drive it on a fake clock. Its sources import only each other and the shared cool-down, and read no clock,
 * randomness, timer or environment. (Until broker/health/ gets an ESLint block like plan/'s, this test is the guard; the broker's service around
 * it, in broker/, does I/O.)
 */
const SOURCES = ['reconciler/src/broker/health', 'reconciler/src/health'].flatMap((dir) =>
  readdirSync(packagePath(dir))
    .filter((name) => name.endsWith('.ts') && !name.endsWith('.test.ts'))
    .map((name) => `${dir}/${name}`),
);
const ALLOWED_IMPORT = /^(?:\.\/[\w-]+\.js|\.\.\/\.\.\/health\/[\w-]+\.js|\.\.\/broker\/health\/[\w-]+\.js)$/;
const FORBIDDEN: readonly [string, RegExp][] = [
  ['the clock', /\bDate\.now\b|\bnew Date\(\s*\)|\bperformance\.now\b/],
  ['randomness', /\bMath\.random\b|\bcrypto\b/],
  ['a timer', /\b(?:setTimeout|setInterval|setImmediate|queueMicrotask)\b/],
  ['the environment', /\bprocess\./],
];

describe('broker health: pure sources', () => {
  test('there are sources to check', () => {
    assert.ok(SOURCES.includes('reconciler/src/broker/health/health-model.ts'), SOURCES.join(', '));
  });
  for (const file of SOURCES) {
    test(`${file}: imports only broker/health/ and health/, reads no clock, randomness, timer or environment`, () => {
      const text = readFileSync(packagePath(file), 'utf8');
      const imports = [...text.matchAll(/\b(?:from|import)\s*\(?\s*'([^']+)'/g)].map((match) => match[1] ?? '');
      assert.deepEqual(
        imports.filter((specifier) => !ALLOWED_IMPORT.test(specifier)),
        [],
      );
      for (const [what, pattern] of FORBIDDEN) assert.doesNotMatch(text, pattern, `${file} reads ${what}`);
    });
  }
});
