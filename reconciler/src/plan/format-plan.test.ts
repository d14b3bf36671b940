import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { testPool } from '../testing/fleet-fixtures.js';
import { EXITS, observedAfter, PACKED, packedFleet, packedPlan } from '../testing/packed-plan-fixture.js';
import { formatPlan } from './format-plan.js';

const US = (n: number): string => `$${n.toString(16).toUpperCase().padStart(40, '0')} (10.${n}.0.${n}, US)`;

describe('formatPlan', () => {
  test('an unpacked fleet prints as before: no word of shared tors', () => {
    const fleet = packedFleet([testPool('plain', { count: 1, basePort: 21000 })]);
    const p = packedPlan({ fleet });
    const text = formatPlan(p);
    assert.match(text, /^\+ plain-0 on 127\.0\.0\.1:21000 exit \$[0-9A-F]{40} \(10\.\d+\.0\.\d+, US\)\n/);
    assert.match(text, /\nPlan for r1: 1 to create, 0 to replace, 0 to delete, 0 unchanged\.\n$/);
    assert.doesNotMatch(text, /shared tor/i);
    assert.equal(
      formatPlan(packedPlan({ ...observedAfter(p), fleet })),
      'No changes: 1 proxy runs as the fleet wants.\n',
    );
  });
  test('shared tors come first, and each packed proxy says which tor serves it', () => {
    const p = packedPlan({ fleet: packedFleet([{ ...PACKED, count: 4 }]) });
    const lines = formatPlan(p).split('\n');
    assert.deepEqual(lines.slice(0, 2), [
      '+ shared tor us-tor0 (pool us): 3 proxies',
      '+ shared tor us-tor1 (pool us): 1 proxy',
    ]);
    const exitOf = (i: number): string => {
      const fp = p.changes[i]?.after?.exits.fingerprints[0] ?? '';
      return US(parseInt(fp, 16));
    };
    assert.equal(lines[2], `+ us-0 on 127.0.0.1:20000 exit ${exitOf(0)} via us-tor0`);
    assert.equal(lines[5], `+ us-3 on 127.0.0.1:20003 exit ${exitOf(3)} via us-tor1`);
    assert.deepEqual(lines.slice(-3), [
      'Plan for r1: 4 to create, 0 to replace, 0 to delete, 0 unchanged.',
      'Shared tors: 2 to create, 0 to replace, 0 to delete, 0 unchanged.',
      '',
    ]);
  });
  test('replaced and deleted shared tors say why; a converged packed fleet says how many tors serve it', () => {
    const running = observedAfter(packedPlan());
    const scaled = packedPlan({ ...running, fleet: packedFleet([{ ...PACKED, count: 3 }]), sharedTorShape: 'new' });
    const text = formatPlan(scaled);
    assert.match(
      text,
      /^~ shared tor us-tor0 replace: spec_changed, 3 proxies\n- shared tor us-tor1 no_proxies\n- shared tor us-tor2 no_proxies\n/,
    );
    assert.match(text, /\nShared tors: 0 to create, 1 to replace, 2 to delete, 0 unchanged\.\n$/);
    assert.equal(formatPlan(packedPlan(running)), 'No changes: 7 proxies run on 3 shared tors as the fleet wants.\n');
  });
  test('a replaced packed proxy names its tor too', () => {
    const running = observedAfter(packedPlan());
    const gone = packedPlan().changes[1]?.after?.exits.fingerprints[0];
    const text = formatPlan(packedPlan({ ...running, exits: EXITS.filter((e) => e.fingerprint !== gone) }));
    assert.match(
      text,
      /^~ us-1 replace: exit_gone, on 127\.0\.0\.1:20001 exit \$[0-9A-F]{40} \(10\.\d+\.0\.\d+, US\) via us-tor0\n/,
    );
  });
});
