import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { testPool } from '../testing/fleet-fixtures.js';
import { testExit as exit } from '../testing/fleet-fixtures.js';
import { EXITS, PACKED, packedFleet, packedPlan } from '../testing/packed-plan-fixture.js';
import { packedProxiesOf, packedProxyOf } from './packed-proxy.js';

const FP = (n: number): string => exit(n, 'US').fingerprint;

describe('packedProxyOf: a packed proxy as its controller takes it', () => {
  test('strict: its one pinned exit, its session group, its listen address', () => {
    const p = packedPlan();
    const spec = p.changes[4]?.after;
    assert.ok(spec);
    assert.deepEqual(packedProxyOf(spec, EXITS), {
      name: 'us-4',
      sessionGroup: 4,
      listen: '127.0.0.1:20004',
      exits: spec.exits.fingerprints,
      rotateEverySeconds: null,
    });
    assert.equal(spec.exits.fingerprints.length, 1);
  });
  test('IPv6: the address in brackets', () => {
    const p = packedPlan({ fleet: packedFleet([{ ...PACKED, bind: '::1' }]) });
    const spec = p.changes[0]?.after;
    assert.ok(spec);
    assert.equal(packedProxyOf(spec, EXITS).listen, '[::1]:20000');
  });
  test('flexible: the whole /16 group it is pinned to', () => {
    const pool = testPool('de', { geo: ['DE'], mode: 'flexible', count: 3, packing: { proxiesPerTor: 10 } });
    const p = packedPlan({ fleet: packedFleet([pool]) });
    const grouped = p.changes.map((c) => c.after).find((spec) => spec?.exits.network === '10.200.0.0/16');
    assert.ok(grouped);
    assert.deepEqual(packedProxyOf(grouped, EXITS).exits, [exit(20, 'DE').fingerprint, exit(21, 'DE').fingerprint]);
  });
  test('rotating: every eligible exit of its geo minus exclude, by fingerprint, and its period', () => {
    const pool = testPool('eu', {
      geo: ['DE', 'NL'],
      exclude: ['NL'],
      mode: 'rotating',
      count: 1,
      rotateEverySeconds: 300,
      packing: { proxiesPerTor: 10 },
    });
    const spec = packedPlan({ fleet: packedFleet([pool]) }).changes[0]?.after;
    assert.ok(spec);
    const packed = packedProxyOf(spec, [...EXITS].reverse());
    assert.deepEqual(
      packed.exits,
      [20, 21, 22, 23].map((n) => exit(n, 'DE').fingerprint),
    );
    assert.equal(packed.rotateEverySeconds, 300);
    assert.deepEqual(packedProxyOf(spec, EXITS.slice(0, 12)).exits, [], 'no DE exit: nothing to rotate over');
  });
  test('an unpacked proxy is refused', () => {
    const spec = packedPlan({ fleet: packedFleet([{ ...PACKED, packing: null }]) }).changes[0]?.after;
    assert.ok(spec);
    assert.throws(() => packedProxyOf(spec, EXITS), /proxy us-0 is not packed/);
  });
});

describe('packedProxiesOf: the list a shared tor controller sets', () => {
  const p = packedPlan();
  test('the proxies the plan wants on that tor, in index order', () => {
    assert.deepEqual(
      packedProxiesOf(p, 'us-tor1', EXITS).map((proxy) => [proxy.name, proxy.sessionGroup, proxy.listen]),
      [
        ['us-3', 3, '127.0.0.1:20003'],
        ['us-4', 4, '127.0.0.1:20004'],
        ['us-5', 5, '127.0.0.1:20005'],
      ],
    );
    assert.deepEqual(packedProxiesOf(p, 'us-tor9', EXITS), []);
  });
  test('strict exits are never shared between the proxies of a tor', () => {
    const exits = packedProxiesOf(p, 'us-tor0', EXITS).flatMap((proxy) => proxy.exits);
    assert.equal(new Set(exits).size, 3);
    assert.ok(exits.every((fp) => /^[0-9A-F]{40}$/.test(fp)));
    assert.ok(exits.every((fp) => [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12].map(FP).includes(fp)));
  });
});
