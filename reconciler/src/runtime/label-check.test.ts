import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { invalidLabel } from './label-check.js';
import { proxyPaths } from './tor-unit-paths.js';

const FP = 'A'.repeat(40);
const GOOD = {
  'torfleet.managed': 'true',
  'torfleet.pool': 'us-strict',
  'torfleet.proxy': 'us-strict-12',
  'torfleet.spec-hash': '0123456789abcdef0123',
  'torfleet.exits': `${FP},${'B'.repeat(40)}`,
};

describe('invalidLabel', () => {
  const CASES: readonly [string, Record<string, string>, RegExp | undefined][] = [
    ['valid labels', GOOD, undefined],
    ['a rotating proxy: no exits', { ...GOOD, 'torfleet.exits': '' }, undefined],
    ['a path as proxy name', { ...GOOD, 'torfleet.proxy': '../../victim' }, /torfleet\.proxy="\.\.\/\.\.\/victim"/],
    ['an absolute path', { ...GOOD, 'torfleet.proxy': '/etc-0' }, /torfleet\.proxy/],
    ['no index', { ...GOOD, 'torfleet.proxy': 'us-strict' }, /torfleet\.proxy/],
    ['capitals', { ...GOOD, 'torfleet.proxy': 'US-0', 'torfleet.pool': 'US' }, /torfleet\.proxy/],
    ['a proxy of another pool', { ...GOOD, 'torfleet.pool': 'eu' }, /torfleet\.pool="eu" is not the pool/],
    ['a missing pool', { ...GOOD, 'torfleet.pool': '' }, /torfleet\.pool/],
    ['a newline in the exits', { ...GOOD, 'torfleet.exits': `${FP}\nExitNodes x` }, /torfleet\.exits/],
    ['a spec hash that is not hex', { ...GOOD, 'torfleet.spec-hash': 'x y' }, /torfleet\.spec-hash/],
  ];
  for (const [name, labels, expected] of CASES) {
    test(name, () => {
      const reason = invalidLabel(labels);
      if (expected) assert.match(reason ?? '', expected);
      else assert.equal(reason, undefined);
    });
  }
});

describe('proxyPaths', () => {
  test('a proxy name maps inside <stateDir>/proxies', () => {
    const paths = proxyPaths('/srv/state', 'us-0');
    assert.deepEqual(paths, {
      dir: '/srv/state/proxies/us-0',
      torrcFile: '/srv/state/proxies/us-0/torrc',
      dataDir: '/srv/state/proxies/us-0/data',
      recordFile: '/srv/state/proxies/us-0/process.json',
    });
  });
  test('a relative state dir is resolved', () => {
    assert.equal(proxyPaths('data', 'us-0').dir, path.resolve('data', 'proxies', 'us-0'));
  });
  for (const name of ['../../victim', '..', '.', '', 'us-0/../../x', '/abs-0', 'a-0\0', 'us-0/', 'ev il-0']) {
    test(`refuses ${JSON.stringify(name)}`, () => {
      assert.throws(() => proxyPaths('/srv/state', name), { code: 'RUNTIME', message: /refusing proxy name/ });
    });
  }
});
