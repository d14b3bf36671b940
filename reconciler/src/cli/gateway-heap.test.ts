import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { capYoungGeneration, SEMI_SPACE_MB } from './gateway-heap.js';

const CASES: readonly [string, readonly string[], string | undefined, boolean][] = [
  ['nothing given: the gateway caps it', [], undefined, true],
  ['other flags only', ['--enable-source-maps'], '--max-old-space-size=200', true],
  ['a ceiling on the command line wins', ['--max-semi-space-size=4'], undefined, false],
  ['a growth factor on the command line wins', ['--semi-space-growth-factor=2'], undefined, false],
  ['a floor in NODE_OPTIONS wins', [], '--min-semi-space-size=2', false],
  ['a ceiling in NODE_OPTIONS wins', [], '--inspect --max-semi-space-size=8', false],
];

for (const [name, execArgv, nodeOptions, expected] of CASES) {
  test(`young generation flag: ${name}`, () => {
    assert.equal(capYoungGeneration(execArgv, nodeOptions), expected);
  });
}

/**
 * New space's size after allocation that makes V8 grow it, in a fresh node: in bursts with the event loop
 * turning between them, as in the gateway (the cap is set from a GC observer, which runs between turns).
 */
function newSpaceMbAfterChurn(preload: string[]): number {
  const churn = `
    const v8 = require('node:v8');
    (async () => {
      let keep = [];
      for (let i = 0; i < 3e6; i++) {
        keep.push({ i, s: 'x' + i });
        if (keep.length > 20000) { keep = []; await new Promise(setImmediate); }
      }
      const space = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
      process.stdout.write(String(space.space_size / 1048576));
    })();`;
  const out = execFileSync(process.execPath, [...preload, '-e', churn], {
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  return Number(out);
}

test('the cap takes effect at run time: new space stops at two semi-spaces of SEMI_SPACE_MB (or one step above)', () => {
  const heap = new URL('./gateway-heap.js', import.meta.url).href;
  const grown = newSpaceMbAfterChurn([]);
  const capped = newSpaceMbAfterChurn(['--import', heap]);
  assert.ok(grown >= 8 * SEMI_SPACE_MB, `without it new space grows (${String(grown)} MB)`);
  // the observer runs a turn after the GC that reached the cap, so one more growth step may slip in
  assert.ok(
    capped >= 2 * SEMI_SPACE_MB && capped <= 4 * SEMI_SPACE_MB,
    `with it new space stops at 2 x ${String(SEMI_SPACE_MB)} MB, or one growth step above (${String(capped)} MB)`,
  );
});
