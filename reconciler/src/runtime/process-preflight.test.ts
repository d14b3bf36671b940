import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { computePlan } from '../plan/compute-plan.js';
import type { ProxySpec } from '../plan/plan-types.js';
import { testFleet, testPool } from '../testing/fleet-fixtures.js';
import { tempDir } from '../testing/temp-dir.js';
import { isExecutable } from './find-executable.js';
import { ProcessRuntime } from './process-runtime.js';

const spec: ProxySpec | null | undefined = computePlan({
  fleet: testFleet([testPool('us', { count: 1, basePort: 20700 })]),
  revision: 'r1',
  exits: [
    { fingerprint: 'A'.repeat(40), nickname: 'e', address: '198.51.1.1', country: 'US', network: '198.51.0.0/16' },
  ],
  observed: [],
  containerShape: 's',
}).changes[0]?.after;

const runtimeWith = (torBinary: string): ProcessRuntime =>
  new ProcessRuntime({ stateDir: path.join(tempDir('dp-process'), 'state'), instance: 'test-dp', torBinary });

test('process runtime preflight: tor missing is TOR_MISSING (stalled), before anything is removed', async () => {
  assert.ok(spec);
  await assert.rejects(runtimeWith('/nonexistent/tor').preflight(spec), {
    code: 'TOR_MISSING',
    disposition: 'stalled',
    message: /cannot start tor for us-0: "\/nonexistent\/tor" is not installed \(apt-get install tor\)/,
  });
  await assert.rejects(runtimeWith('torfleet-no-such-tor').preflight(spec), { code: 'TOR_MISSING' });
  await runtimeWith('tor').preflight(spec); // the real one, on PATH
});

const dir = tempDir('dp-exec');
const script = path.join(dir, 'tor-like');
const plain = path.join(dir, 'not-executable');
writeFileSync(script, '#!/bin/sh\n', { mode: 0o755 });
writeFileSync(plain, 'text\n', { mode: 0o644 });

const CASES: readonly [string, string, string, boolean][] = [
  ['a bare name found on PATH', 'tor-like', dir, true],
  ['a bare name nowhere on PATH', 'tor-like', '/nonexistent', false],
  ['a path to an executable file', script, '', true],
  ['a path to a file that is not executable', plain, dir, false],
  ['a path that does not exist', path.join(dir, 'nothing'), dir, false],
];
for (const [name, binary, searchPath, expected] of CASES) {
  test(`isExecutable: ${name}`, async () => {
    assert.equal(await isExecutable(binary, searchPath), expected);
  });
}
