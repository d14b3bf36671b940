import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TorfleetError } from '../errors.js';
import { PassTimeoutError } from '../reconcile/pass-timeout-error.js';
import type { EligibleExit } from '../nodes/eligible-exit.js';
import { computePlan } from '../plan/compute-plan.js';
import type { ObservedProxy, Plan, ProxySpec } from '../plan/plan-types.js';
import { testFleet, testPool } from '../testing/fleet-fixtures.js';
import { RecordingRuntime } from '../testing/recording-runtime.js';
import { applyPlan } from './apply-plan.js';

const exit = (n: number): EligibleExit => ({
  fingerprint: n.toString(16).toUpperCase().padStart(40, '0'),
  nickname: `e${String(n)}`,
  address: `198.51.${String(n)}.1`,
  country: 'US',
  network: `198.51.${String(n)}.0/16`,
});
const EXITS = [1, 2, 3, 4].map(exit);
const SHAPE = 'shape';

/** A running proxy as a runtime lists it; `specHash` stale unless given. */
const running = (name: string, id: string, specHash = 'stale-spec-hash'): ObservedProxy => ({
  name,
  pool: name.split('-')[0] ?? '',
  id,
  state: 'running',
  specHash,
  exitFingerprints: [],
  revision: 'r0',
  startedAt: null,
});

const planFor = (count: number, observed: readonly ObservedProxy[]): Plan =>
  computePlan({
    fleet: testFleet([testPool('us', { count })]),
    revision: 'r1',
    exits: EXITS,
    observed,
    containerShape: SHAPE,
  });

/** A proxy exactly as the plan wants it (a noop). */
const current = (name: string, id: string): ObservedProxy => {
  const spec = planFor(2, []).changes.find((c) => c.proxy === name)?.after;
  return { ...running(name, id, spec?.specHash), exitFingerprints: spec?.exits.fingerprints ?? [] };
};

const stalled = (code: 'IMAGE_MISSING' | 'TORRC_INVALID', message: string): TorfleetError =>
  new TorfleetError(code, 'stalled', message);

interface ApplyCase {
  readonly name: string;
  readonly wanted: number;
  readonly observed: readonly ObservedProxy[];
  /** Calls to fail (`torrc us-0` fails the torrc check; the rest are runtime calls). */
  readonly fail?: Readonly<Record<string, Error>>;
  /** Every call in order (one change at a time). */
  readonly calls: readonly string[];
  readonly done: readonly string[];
  /** Failed changes as `proxy action code disposition`. */
  readonly failures?: readonly string[];
  /** What the runtime holds afterwards (`name:id`). */
  readonly holding: readonly string[];
}

const CASES: readonly ApplyCase[] = [
  {
    name: 'deletions first, then creations; each torrc and preflight checked before create',
    wanted: 1,
    observed: [running('us-1', 'old1')],
    calls: ['remove us-1 forget', 'torrc us-0', 'preflight us-0', 'create us-0'],
    done: ['us-1 delete', 'us-0 create'],
    holding: ['us-0:new-us-0'],
  },
  {
    name: 'a replacement is checked before the old proxy is removed',
    wanted: 1,
    observed: [running('us-0', 'old0')],
    calls: ['torrc us-0', 'preflight us-0', 'remove us-0 keep', 'create us-0'],
    done: ['us-0 replace'],
    holding: ['us-0:new-us-0'],
  },
  {
    name: 'a torrc tor refuses leaves the old proxy running',
    wanted: 1,
    observed: [running('us-0', 'old0')],
    fail: { 'torrc us-0': stalled('TORRC_INVALID', 'tor rejects the torrc of us-0') },
    calls: ['torrc us-0'],
    done: [],
    failures: ['us-0 replace TORRC_INVALID stalled'],
    holding: ['us-0:old0'],
  },
  {
    name: 'a missing image (preflight) leaves the old proxy running',
    wanted: 1,
    observed: [running('us-0', 'old0')],
    fail: { 'preflight us-0': stalled('IMAGE_MISSING', 'the tor image is not on this Docker engine') },
    calls: ['torrc us-0', 'preflight us-0'],
    done: [],
    failures: ['us-0 replace IMAGE_MISSING stalled'],
    holding: ['us-0:old0'],
  },
  {
    name: 'a failure is collected and the other changes are still done',
    wanted: 2,
    observed: [],
    fail: { 'create us-0': new Error('boom') },
    calls: ['torrc us-0', 'preflight us-0', 'create us-0', 'torrc us-1', 'preflight us-1', 'create us-1'],
    done: ['us-1 create'],
    failures: ['us-0 create INTERNAL generic'],
    holding: ['us-1:new-us-1'],
  },
  {
    name: 'a failed deletion does not stop the creations (partial result)',
    wanted: 1,
    observed: [running('us-2', 'old2')],
    fail: { 'remove us-2 forget': new TorfleetError('RUNTIME', 'waiting', 'docker: cannot remove container') },
    calls: ['remove us-2 forget', 'torrc us-0', 'preflight us-0', 'create us-0'],
    done: ['us-0 create'],
    failures: ['us-2 delete RUNTIME waiting'],
    holding: ['us-0:new-us-0', 'us-2:old2'],
  },
  {
    name: 'a duplicate is removed keeping its data directory; the primary is untouched',
    wanted: 1,
    observed: [current('us-0', 'a'), current('us-0', 'b')],
    calls: ['remove us-0 keep'],
    done: ['us-0 delete'],
    holding: ['us-0:a'],
  },
  {
    name: 'nothing to change calls nothing',
    wanted: 2,
    observed: [current('us-0', 'a'), current('us-1', 'b')],
    calls: [],
    done: [],
    holding: ['us-0:a', 'us-1:b'],
  },
];

describe('applyPlan against a recording runtime', () => {
  for (const c of CASES) {
    test(c.name, async () => {
      const runtime = new RecordingRuntime(c.observed);
      for (const [call, error] of Object.entries(c.fail ?? {})) runtime.failOn(call, error);
      const result = await applyPlan(planFor(c.wanted, c.observed), {
        runtime,
        concurrency: 1,
        torrcFor: (spec) => {
          const call = `torrc ${spec.name}`;
          runtime.calls.push(call);
          const failure = c.fail?.[call];
          return failure ? Promise.reject(failure) : Promise.resolve('SocksPort 1\n');
        },
      });
      assert.deepEqual(runtime.calls, c.calls);
      assert.deepEqual(
        result.done.map((d) => `${d.proxy} ${d.action}`),
        c.done,
      );
      assert.deepEqual(
        result.failures.map((f) => `${f.change.proxy} ${f.change.action} ${f.error.code} ${f.error.disposition}`),
        c.failures ?? [],
      );
      assert.deepEqual(
        result.created.map((p) => p.name),
        c.done.filter((d) => !d.endsWith('delete')).map((d) => d.split(' ')[0]),
      );
      assert.deepEqual(runtime.holding(), c.holding);
    });
  }

  test('with several at once, every deletion ends before the first creation starts', async () => {
    const observed = [running('us-4', 'o4'), running('us-5', 'o5'), running('us-6', 'o6')];
    const runtime = new RecordingRuntime(observed);
    const result = await applyPlan(planFor(3, observed), {
      runtime,
      concurrency: 4,
      torrcFor: () => Promise.resolve('SocksPort 1\n'),
    });
    assert.equal(result.failures.length, 0);
    const lastRemove = runtime.calls.findLastIndex((call) => call.startsWith('remove'));
    const firstCheck = runtime.calls.findIndex((call) => call.startsWith('preflight'));
    assert.equal(lastRemove, 2, runtime.calls.join(', '));
    assert.ok(firstCheck > lastRemove, runtime.calls.join(', '));
    assert.deepEqual(runtime.holding(), ['us-0:new-us-0', 'us-1:new-us-1', 'us-2:new-us-2']);
  });

  test('a pass abandoned mid-apply touches nothing more: a replacement checked meanwhile keeps its old proxy', async () => {
    const observed = [running('us-0', 'o0'), running('us-1', 'o1'), running('us-2', 'o2')];
    const runtime = new RecordingRuntime(observed);
    const abandon = new AbortController();
    const result = await applyPlan(planFor(3, observed), {
      runtime,
      concurrency: 1,
      signal: abandon.signal,
      torrcFor: (spec) => {
        runtime.calls.push(`torrc ${spec.name}`);
        // The deadline passes while us-1's torrc is being checked.
        if (spec.name === 'us-1') abandon.abort(new PassTimeoutError('a test', 1));
        return Promise.resolve('SocksPort 1\n');
      },
    });
    assert.deepEqual(runtime.calls, [
      'torrc us-0',
      'preflight us-0',
      'remove us-0 keep',
      'create us-0',
      'torrc us-1',
      'preflight us-1',
    ]);
    assert.deepEqual(
      result.done.map((d) => d.proxy),
      ['us-0'],
    );
    assert.deepEqual(
      result.failures.map((f) => `${f.change.proxy} ${f.error.code}`),
      ['us-1 PASS_TIMEOUT', 'us-2 PASS_TIMEOUT'],
    );
    assert.deepEqual(runtime.holding(), ['us-0:new-us-0', 'us-1:o1', 'us-2:o2']);
  });

  test('a runtime that replaces in place (swarm) is asked to, after the checks, and nothing is removed first', async () => {
    class InPlace extends RecordingRuntime {
      replace(before: ObservedProxy, spec: ProxySpec): Promise<ObservedProxy> {
        this.calls.push(`replace ${before.id} ${spec.name}`);
        return Promise.resolve({ ...before, specHash: spec.specHash });
      }
    }
    const observed = [running('us-0', 'o0'), current('us-1', 'o1')];
    const runtime = new InPlace(observed);
    const result = await applyPlan(planFor(3, observed), {
      runtime,
      concurrency: 1,
      torrcFor: (spec) => {
        runtime.calls.push(`torrc ${spec.name}`);
        return Promise.resolve('SocksPort 1\n');
      },
    });
    assert.deepEqual(result.failures, []);
    assert.deepEqual(runtime.calls, [
      'torrc us-0',
      'preflight us-0',
      'replace o0 us-0',
      'torrc us-2',
      'preflight us-2',
      'create us-2',
    ]);
  });

  test('in place too, a torrc tor refuses never reaches the running proxy', async () => {
    class InPlace extends RecordingRuntime {
      replace(before: ObservedProxy): Promise<ObservedProxy> {
        this.calls.push(`replace ${before.id}`);
        return Promise.resolve(before);
      }
    }
    const runtime = new InPlace([running('us-0', 'o0')]);
    const result = await applyPlan(planFor(1, [running('us-0', 'o0')]), {
      runtime,
      torrcFor: () => Promise.reject(stalled('TORRC_INVALID', 'tor refuses it')),
    });
    assert.deepEqual(
      result.failures.map((f) => f.error.code),
      ['TORRC_INVALID'],
    );
    assert.deepEqual(runtime.calls, []);
  });
});
