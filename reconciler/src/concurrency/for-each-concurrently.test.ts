import assert from 'node:assert/strict';
import { test } from 'node:test';
import { forEachConcurrently } from './for-each-concurrently.js';

/** A run that records how many items run at once; each waits for a turn of the event loop. */
function recording(fail?: number): { run: (n: number) => Promise<void>; started: number[]; peak: () => number } {
  let active = 0;
  let peak = 0;
  const started: number[] = [];
  const run = async (n: number): Promise<void> => {
    started.push(n);
    active++;
    peak = Math.max(peak, active);
    await new Promise((resolve) => setImmediate(resolve));
    active--;
    if (n === fail) throw new Error(`item ${String(n)} failed`);
  };
  return { run, started, peak: () => peak };
}

const CASES = [
  { name: 'more items than the limit', items: 10, limit: 3, peak: 3 },
  { name: 'fewer items than the limit', items: 2, limit: 4, peak: 2 },
  { name: 'a limit of one runs them in turn', items: 5, limit: 1, peak: 1 },
  { name: 'no items', items: 0, limit: 4, peak: 0 },
];

for (const c of CASES) {
  test(`forEachConcurrently: ${c.name}`, async () => {
    const r = recording();
    const items = Array.from({ length: c.items }, (_, i) => i);
    await forEachConcurrently(items, c.limit, r.run);
    assert.deepEqual(r.started, items, 'every item once, started in order');
    assert.equal(r.peak(), c.peak);
  });
}

test('forEachConcurrently: a throwing run starts no new item and rejects once the running ones settle', async () => {
  const r = recording(1);
  await assert.rejects(
    forEachConcurrently(
      Array.from({ length: 10 }, (_, i) => i),
      2,
      r.run,
    ),
    /item 1 failed/,
  );
  assert.ok(r.started.length < 10, `started ${String(r.started.length)} of 10`);
});

test('forEachConcurrently: a limit that is not a positive integer is refused', async () => {
  await assert.rejects(
    forEachConcurrently([1], 0, () => Promise.resolve()),
    /positive integer/,
  );
});
