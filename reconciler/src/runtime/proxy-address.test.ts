import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ObservedProxy } from '../plan/plan-types.js';
import { ProxyLocations, proxyDialHost } from './proxy-address.js';

describe('proxyDialHost: where the reconciler dials a proxy', () => {
  const CASES: readonly [bind: string, nodeAddress: string | null, host: string][] = [
    ['0.0.0.0', null, '127.0.0.1'],
    ['::', null, '::1'],
    ['127.0.0.1', null, '127.0.0.1'],
    ['127.0.0.5', null, '127.0.0.5'],
    ['10.0.0.5', null, '10.0.0.5'],
    ['0.0.0.0', '10.0.0.6', '10.0.0.6'],
    ['::', 'fd00::6', 'fd00::6'],
    // Loopback on another node listens there only; the node address is the one way towards it.
    ['127.0.0.1', '10.0.0.6', '10.0.0.6'],
    ['::1', '10.0.0.6', '10.0.0.6'],
    ['0:0:0:0:0:0:0:1', '10.0.0.6', '10.0.0.6'],
    // An address the operator named is where the proxy listens, on whichever node holds it.
    ['10.0.0.9', '10.0.0.6', '10.0.0.9'],
  ];
  for (const [bind, nodeAddress, host] of CASES) {
    test(`bind ${bind}, node ${nodeAddress ?? 'this host'}: ${host}`, () => {
      assert.equal(proxyDialHost(bind, nodeAddress), host);
    });
  }
});

describe('ProxyLocations', () => {
  const at = (name: string, nodeAddress?: string | null): ObservedProxy => ({
    name,
    pool: 'p',
    id: name,
    state: 'running',
    specHash: 'h',
    exitFingerprints: [],
    revision: 'r',
    startedAt: null,
    ...(nodeAddress === undefined ? {} : { nodeAddress }),
  });

  test('keeps the proxies on other nodes and says when one moved', () => {
    const locations = new ProxyLocations();
    assert.equal(locations.update([at('p-0'), at('p-1', null)]), false, 'all here: nothing to say');
    assert.equal(locations.update([at('p-0', '10.0.0.6'), at('p-1')]), true);
    assert.equal(locations.nodeAddress('p-0'), '10.0.0.6');
    assert.equal(locations.nodeAddress('p-1'), null);
    assert.equal(locations.update([at('p-1'), at('p-0', '10.0.0.6')]), false, 'same places in another order');
    assert.equal(locations.update([at('p-0', '10.0.0.7')]), true, 'rescheduled to another node');
    assert.deepEqual(locations.all(), { 'p-0': '10.0.0.7' });
    assert.equal(locations.update([]), true, 'gone');
    assert.equal(locations.nodeAddress('p-0'), null);
  });

  test("names a proxy's node by its hostname, else by its address", () => {
    const locations = new ProxyLocations();
    locations.update([{ ...at('p-0', '10.0.0.6'), node: 'worker-2' }, at('p-1', '10.0.0.7'), at('p-2')]);
    assert.equal(locations.nodeName('p-0'), 'worker-2');
    assert.equal(locations.nodeName('p-1'), '10.0.0.7');
    assert.equal(locations.nodeName('p-2'), null, 'on this host');
  });
});
