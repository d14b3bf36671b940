import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ChangeFailure } from '../apply/apply-plan.js';
import type { ErrorDisposition } from '../errors.js';
import type { Plan, PlannedChange } from '../plan/plan-types.js';
import { verdictOfResult, type NextStep } from './pass-verdict.js';

const change = (n: number): PlannedChange => ({
  action: 'create',
  proxy: `us-${String(n)}`,
  pool: 'us',
  reason: 'new',
  before: null,
  after: null,
});
const failure = (n: number, code: string, disposition: ErrorDisposition, retryAfterMs?: number): ChangeFailure => ({
  change: change(n),
  error: { code, disposition, message: `${code.toLowerCase()} here`, ...(retryAfterMs ? { retryAfterMs } : {}) },
});

interface VerdictCase {
  readonly name: string;
  readonly failures: readonly ChangeFailure[];
  readonly outcome: string;
  readonly reason: string;
  readonly next: NextStep;
  /** The Stalled condition's reason, null when not stalled. */
  readonly stalled: string | null;
  readonly stalledMessage?: RegExp;
}

const CASES: readonly VerdictCase[] = [
  {
    name: 'no failure',
    failures: [],
    outcome: 'converged',
    reason: 'Succeeded',
    next: { kind: 'event' },
    stalled: null,
  },
  {
    name: 'all stalled: waits for an event',
    failures: [failure(0, 'IMAGE_MISSING', 'stalled'), failure(1, 'TORRC_INVALID', 'stalled')],
    outcome: 'stalled',
    reason: 'ImageMissing',
    next: { kind: 'event' },
    stalled: 'ImageMissing',
  },
  {
    name: 'stalled and waiting: the wait decides, Stalled still set',
    failures: [failure(0, 'TORRC_INVALID', 'stalled'), failure(1, 'RUNTIME', 'waiting', 5000)],
    outcome: 'partial',
    reason: 'RuntimeUnavailable',
    next: { kind: 'after', asked: [5000] },
    stalled: 'TorrcInvalid',
  },
  {
    name: 'waiting with and without a delay: both asked (the controller takes the shortest)',
    failures: [failure(0, 'RUNTIME', 'waiting', 5000), failure(1, 'RUNTIME', 'waiting')],
    outcome: 'partial',
    reason: 'RuntimeUnavailable',
    next: { kind: 'after', asked: [5000, undefined] },
    stalled: null,
  },
  {
    name: 'any generic one backs off',
    failures: [failure(0, 'RUNTIME', 'waiting', 5000), failure(1, 'INTERNAL', 'generic')],
    outcome: 'partial',
    reason: 'ApplyFailed',
    next: { kind: 'backoff' },
    stalled: null,
  },
  {
    name: 'many stalled: the Stalled message lists three and counts the rest',
    failures: [0, 1, 2, 3, 4].map((n) => failure(n, 'IMAGE_MISSING', 'stalled')),
    outcome: 'stalled',
    reason: 'ImageMissing',
    next: { kind: 'event' },
    stalled: 'ImageMissing',
    stalledMessage:
      /^5 change\(s\) need a human: us-0: .*; us-2: create: IMAGE_MISSING: image_missing here; and 2 more \(GET \/status\)$/,
  },
];

for (const c of CASES) {
  test(`verdictOfResult: ${c.name}`, () => {
    const changes = [0, 1, 2, 3, 4].map(change);
    const byProxy = new Map(c.failures.map((f) => [f.change.proxy, f]));
    // The failures name the plan's own change objects, as applyPlan's do.
    const failures = changes.flatMap((ch) => {
      const f = byProxy.get(ch.proxy);
      return f ? [{ ...f, change: ch }] : [];
    });
    const plan: Plan = { formatVersion: 1, revision: 'r1', changes, sharedTors: [], shortfalls: [] };
    const verdict = verdictOfResult(plan, { done: [], failures, created: [] });
    assert.deepEqual([verdict.record.outcome, verdict.record.reason, verdict.next], [c.outcome, c.reason, c.next]);
    assert.equal(verdict.stalled?.reason ?? null, c.stalled);
    if (c.stalledMessage) assert.match(verdict.stalled?.message ?? '', c.stalledMessage);
    const failed = verdict.record.changes.filter((ch) => ch.code !== undefined);
    assert.deepEqual(
      failed.map((ch) => `${ch.proxy} ${ch.code ?? ''} ${ch.disposition ?? ''}`),
      c.failures.map((f) => `${f.change.proxy} ${f.error.code} ${f.error.disposition}`),
    );
  });
}
