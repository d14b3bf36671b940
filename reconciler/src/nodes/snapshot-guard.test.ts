import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decideSnapshot, MAX_FUTURE_SKEW_MS, type GuardPolicy, type SnapshotSummary } from './snapshot-guard.js';

const NOW = new Date('2026-11-22T12:00:00Z');
const MINUTE = 60_000;

function summary(minutesAgo: number, US: number, NON_US: number, relays = 6000): SnapshotSummary {
  return { relaysPublished: new Date(NOW.getTime() - minutesAgo * MINUTE), relays, exits: { US, NON_US } };
}

const POLICY: GuardPolicy = { maxDrop: 0.5, maxFutureSkewMs: MAX_FUTURE_SKEW_MS, accept: false };
const STORED = summary(65, 300, 1100);

/** [case, stored, incoming, policy, expected kind, expected reason (refuse) or overridden reason (accept)] */
const CASES: readonly [string, SnapshotSummary | null, SnapshotSummary, GuardPolicy, string, string | null][] = [
  ['first snapshot ever', null, summary(5, 300, 1100), POLICY, 'accept', null],
  ['first snapshot ever, empty', null, summary(5, 0, 0, 0), POLICY, 'refuse', 'empty'],
  ['first snapshot ever, relays but no eligible exit', null, summary(5, 0, 0, 6000), POLICY, 'refuse', 'empty'],
  ['newer, same exits', STORED, summary(5, 300, 1100), POLICY, 'accept', null],
  ['newer, more exits', STORED, summary(5, 900, 3000), POLICY, 'accept', null],
  ['equal relays_published: the same data again', STORED, summary(65, 1, 1), POLICY, 'unchanged', null],
  ['older', STORED, summary(125, 300, 1100), POLICY, 'refuse', 'older'],
  ['newer but no relays (the issue: "relays": [])', STORED, summary(5, 0, 0, 0), POLICY, 'refuse', 'empty'],
  ['US drops by exactly half: allowed', STORED, summary(5, 150, 1100), POLICY, 'accept', null],
  ['US drops by more than half', STORED, summary(5, 149, 1100), POLICY, 'refuse', 'exit_drop'],
  // 300 of 1400 exits gone overall is a 21% drop, but every US pool would be emptied.
  ['every US exit gone, 21% overall', STORED, summary(5, 0, 1100), POLICY, 'refuse', 'exit_drop'],
  ['NON_US drops by more than half', STORED, summary(5, 300, 500), POLICY, 'refuse', 'exit_drop'],
  ['a stricter share', STORED, summary(5, 250, 1100), { ...POLICY, maxDrop: 0.1 }, 'refuse', 'exit_drop'],
  ['share 1 never refuses a drop', STORED, summary(5, 1, 1), { ...POLICY, maxDrop: 1 }, 'accept', null],
  ['a category that had none cannot drop', summary(65, 0, 1100), summary(5, 0, 1000), POLICY, 'accept', null],
  ['within the clock skew', STORED, summary(-59, 300, 1100), POLICY, 'accept', null],
  ['beyond the clock skew: the future', STORED, summary(-61, 300, 1100), POLICY, 'refuse', 'future'],
  ['operator accepts an older one', STORED, summary(125, 300, 1100), { ...POLICY, accept: true }, 'accept', 'older'],
  ['operator accepts a drop', STORED, summary(5, 10, 20), { ...POLICY, accept: true }, 'accept', 'exit_drop'],
  ['operator accepts an empty one', STORED, summary(5, 0, 0, 0), { ...POLICY, accept: true }, 'accept', 'empty'],
  [
    'the flag on a good one changes nothing',
    STORED,
    summary(5, 300, 1100),
    { ...POLICY, accept: true },
    'accept',
    null,
  ],
];

describe('decideSnapshot', () => {
  for (const [name, stored, incoming, policy, kind, reason] of CASES) {
    test(name, () => {
      const decision = decideSnapshot(stored, incoming, NOW, policy);
      assert.equal(decision.kind, kind);
      if (decision.kind === 'refuse') {
        assert.equal(decision.reason, reason);
        assert.match(decision.message, /^[a-z]/, 'messages start lowercase');
      }
      if (decision.kind === 'accept') assert.equal(decision.overridden, reason);
    });
  }

  test('messages say what was refused and why, with the numbers', () => {
    const drop = decideSnapshot(STORED, summary(5, 0, 1100), NOW, POLICY);
    assert.ok(drop.kind === 'refuse');
    assert.equal(
      drop.message,
      'the snapshot published 2026-11-22T11:55:00.000Z has 0 eligible US exits, down from 300 (more than 50% gone at once; TORFLEET_NODES_MAX_DROP)',
    );
    const older = decideSnapshot(STORED, summary(125, 300, 1100), NOW, POLICY);
    assert.ok(older.kind === 'refuse');
    assert.equal(
      older.message,
      "relays_published 2026-11-22T09:55:00.000Z is older than the stored snapshot's 2026-11-22T10:55:00.000Z",
    );
    const empty = decideSnapshot(STORED, summary(5, 0, 0, 0), NOW, POLICY);
    assert.ok(empty.kind === 'refuse');
    assert.equal(empty.message, 'the snapshot published 2026-11-22T11:55:00.000Z lists no relays');
  });
});
