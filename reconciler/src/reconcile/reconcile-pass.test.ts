import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { TorfleetError } from '../errors.js';
import { createFileSource } from '../fleet-source/file-source.js';
import type { ObservedProxy } from '../plan/plan-types.js';
import { passDependencies, torrcTemplate } from '../testing/pass-fixture.js';
import { RecordingRuntime } from '../testing/recording-runtime.js';
import { tempDir } from '../testing/temp-dir.js';
import { PassTimeoutError } from './pass-timeout-error.js';
import { reconcilePass, type PassDependencies } from './reconcile-pass.js';

/** Two strict US proxies in this file's port block; tor never dials out (DisableNetwork 1). */
const FLEET = `apiVersion: torfleet/v1
kind: Fleet
tor:
  image: torfleet/tor:0.4.9
  disableNetwork: true
pools:
  - name: us
    geo: US
    mode: strict
    count: 2
    basePort: 20500
`;
const TEMPLATE = torrcTemplate();

/** A real node store (SQLite) holding `relays`, a real fleet file, and a recording runtime. */
function setUp(runtime: RecordingRuntime, relays = 3, over: Partial<PassDependencies> = {}): PassDependencies {
  return passDependencies(FLEET, runtime, relays, over);
}

const old = (name: string): ObservedProxy => ({
  name,
  pool: 'us',
  id: `old-${name}`,
  state: 'running',
  specHash: 'stale-spec-hash',
  exitFingerprints: [],
  revision: 'r0',
  startedAt: null,
});

interface PassCase {
  readonly name: string;
  readonly observed?: readonly ObservedProxy[];
  readonly fail?: Readonly<Record<string, unknown>>;
  readonly over?: Partial<PassDependencies>;
  readonly relays?: number;
  readonly abort?: boolean;
  /** The runtime calls, sorted (changes run concurrently). */
  readonly calls: readonly string[];
  /** Failed changes as `proxy code disposition`, or the pass's own error. */
  readonly failures?: readonly string[];
  readonly throws?: { code: string; disposition: string };
  readonly holding: readonly string[];
}

const CASES: readonly PassCase[] = [
  {
    name: 'an empty runtime: both proxies created after their checks',
    calls: ['create us-0', 'create us-1', 'list', 'preflight us-0', 'preflight us-1'],
    holding: ['us-0:new-us-0', 'us-1:new-us-1'],
  },
  {
    name: 'a template tor refuses: TORRC_INVALID (stalled), the old proxies keep running',
    observed: [old('us-0'), old('us-1')],
    over: { template: `${TEMPLATE}BogusOption 1\n` },
    calls: ['list'],
    failures: ['us-0 TORRC_INVALID stalled', 'us-1 TORRC_INVALID stalled'],
    holding: ['us-0:old-us-0', 'us-1:old-us-1'],
  },
  {
    name: 'tor not installed: TOR_MISSING (stalled), nothing removed',
    observed: [old('us-0')],
    over: { torBinary: '/nonexistent/tor' },
    calls: ['list'],
    failures: ['us-0 TOR_MISSING stalled', 'us-1 TOR_MISSING stalled'],
    holding: ['us-0:old-us-0'],
  },
  {
    name: 'the image missing for one: IMAGE_MISSING (stalled) for it, the other still replaced',
    observed: [old('us-0'), old('us-1')],
    fail: { 'preflight us-0': new TorfleetError('IMAGE_MISSING', 'stalled', 'the tor image is not here') },
    calls: ['create us-1', 'list', 'preflight us-0', 'preflight us-1', 'remove us-1 keep'],
    failures: ['us-0 IMAGE_MISSING stalled'],
    holding: ['us-0:old-us-0', 'us-1:new-us-1'],
  },
  {
    name: 'the engine unreachable when listing: the pass fails, waiting',
    fail: { list: new TorfleetError('RUNTIME', 'waiting', 'docker: cannot list containers') },
    calls: ['list'],
    throws: { code: 'RUNTIME', disposition: 'waiting' },
    holding: [],
  },
  {
    name: 'an empty node database: waiting, the runtime is not even listed',
    relays: 0,
    calls: [],
    throws: { code: 'NODE_DB', disposition: 'waiting' },
    holding: [],
  },
  {
    name: 'a pass abandoned at its deadline applies nothing',
    observed: [old('us-0')],
    abort: true,
    calls: ['list'],
    throws: { code: 'PASS_TIMEOUT', disposition: 'generic' },
    holding: ['us-0:old-us-0'],
  },
];

describe('reconcilePass against a recording runtime (real SQLite, real fleet file, real tor --verify-config)', () => {
  for (const c of CASES) {
    test(c.name, async () => {
      const runtime = new RecordingRuntime(c.observed ?? []);
      for (const [call, error] of Object.entries(c.fail ?? {})) runtime.failOn(call, error);
      const deps = setUp(runtime, c.relays ?? 3, c.over);
      const abort = new AbortController();
      const revisions: string[] = [];
      try {
        const pass = reconcilePass(
          deps,
          (revision) => {
            revisions.push(revision);
            if (c.abort) abort.abort(new PassTimeoutError('a test', 1));
          },
          abort.signal,
        );
        if (c.throws) {
          await assert.rejects(pass, (error: unknown) => {
            const { code, disposition } = error as { code?: unknown; disposition?: unknown };
            assert.deepEqual({ code, disposition: disposition ?? 'generic' }, c.throws);
            return true;
          });
        } else {
          const { result } = await pass;
          assert.deepEqual(
            result.failures.map((f) => `${f.change.proxy} ${f.error.code} ${f.error.disposition}`).sort(),
            c.failures ?? [],
          );
        }
        assert.deepEqual([...runtime.calls].sort(), c.calls);
        assert.deepEqual(runtime.holding(), c.holding);
        assert.match(revisions[0] ?? '', /^file:[0-9a-f]{12}$/);
      } finally {
        deps.store.close();
      }
    });
  }
});

describe('a packed pool on a runtime that runs no shared tors (swarm)', () => {
  test('the pass refuses it, names the pool and the fix, and touches nothing running', async () => {
    const runtime = new RecordingRuntime([old('us-0')]);
    const file = path.join(tempDir('dp-packed'), 'fleet.yaml');
    writeFileSync(file, `${FLEET}    packing:\n      proxiesPerTor: 10\n`);
    const deps = setUp(runtime, 3, { source: createFileSource(file) });
    await assert.rejects(reconcilePass(deps), (error: unknown) => {
      assert.ok(error instanceof TorfleetError);
      assert.equal(error.code, 'FLEET_INVALID');
      assert.match(
        error.message,
        /pool us sets packing, which the docker runtime cannot run .*TORFLEET_RUNTIME=docker or process, or remove its packing: section/,
      );
      return true;
    });
    assert.deepEqual(
      (await runtime.list()).map((p) => p.id),
      ['old-us-0'],
      'the running proxy is left as it was',
    );
  });
});
