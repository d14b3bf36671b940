import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { sharedTorName } from '../plan/shared-tor-name.js';
import type { SharedTorSpec } from '../plan/shared-tor-types.js';
import { invalidLabel } from './label-check.js';
import {
  invalidSharedTorLabel,
  isSharedTorObject,
  mapSharedTor,
  refuseSharedTorRemoval,
  sharedTorLabels,
} from './shared-tor-labels.js';
import { PROXY_NAME, SHARED_TOR_NAME, SHARED_TOR_UNIT, torUnitPaths } from './tor-unit-paths.js';

const SPEC = { name: 'us-strict-tor3', pool: 'us-strict', specHash: '0123456789abcdef0123' } as SharedTorSpec;
const GOOD = sharedTorLabels(SPEC, 'prod', 'file:abc');

describe('shared tor labels', () => {
  test('sharedTorLabels: managed, instance, pool, name, spec hash and revision; no proxy or exits label', () => {
    assert.deepEqual(GOOD, {
      'torfleet.managed': 'true',
      'torfleet.instance': 'prod',
      'torfleet.pool': 'us-strict',
      'torfleet.shared-tor': 'us-strict-tor3',
      'torfleet.spec-hash': '0123456789abcdef0123',
      'torfleet.revision': 'file:abc',
    });
    assert.equal(isSharedTorObject(GOOD), true);
    assert.equal(isSharedTorObject({ 'torfleet.proxy': 'us-0' }), false);
  });

  const CASES: readonly [string, Record<string, string>, RegExp | undefined][] = [
    ['valid labels', GOOD, undefined],
    ['a path as name', { ...GOOD, 'torfleet.shared-tor': '../../victim' }, /torfleet\.shared-tor="\.\.\/\.\.\/victim"/],
    ['a proxy name', { ...GOOD, 'torfleet.shared-tor': 'us-strict-3' }, /not a shared tor name/],
    ['no index', { ...GOOD, 'torfleet.shared-tor': 'us-strict-tor' }, /not a shared tor name/],
    ['a leading zero', { ...GOOD, 'torfleet.shared-tor': 'us-strict-tor03' }, /not a shared tor name/],
    ['a tor of another pool', { ...GOOD, 'torfleet.pool': 'us' }, /torfleet\.pool="us" is not the pool/],
    ['a missing pool', { ...GOOD, 'torfleet.pool': '' }, /torfleet\.pool/],
    ['a proxy label too', { ...GOOD, 'torfleet.proxy': 'us-strict-0' }, /a proxy or a shared tor/],
    ['a spec hash that is not hex', { ...GOOD, 'torfleet.spec-hash': 'x\ny' }, /torfleet\.spec-hash/],
  ];
  for (const [name, labels, expected] of CASES) {
    test(`invalidSharedTorLabel: ${name}`, () => {
      const reason = invalidSharedTorLabel(labels);
      if (expected) assert.match(reason ?? '', expected);
      else assert.equal(reason, undefined);
    });
  }

  test('a proxy carrying a shared-tor label is not a valid proxy', () => {
    const proxy = { 'torfleet.pool': 'us', 'torfleet.proxy': 'us-0', 'torfleet.exits': '', 'torfleet.spec-hash': '' };
    assert.equal(invalidLabel(proxy), undefined);
    assert.match(invalidLabel({ ...proxy, 'torfleet.shared-tor': 'us-tor0' }) ?? '', /a proxy or a shared tor/);
  });

  test('mapSharedTor: the observed shared tor', () => {
    assert.deepEqual(mapSharedTor({ Id: 'c1', Labels: GOOD, State: 'restarting' }), {
      name: 'us-strict-tor3',
      pool: 'us-strict',
      id: 'c1',
      state: 'restarting',
      specHash: '0123456789abcdef0123',
    });
    assert.equal(mapSharedTor({ Id: 'c1', Labels: { ...GOOD, 'torfleet.managed': 'false' } }), undefined);
  });

  const REFUSALS: readonly [string, Record<string, string>, string, boolean][] = [
    ['this instance, this name', GOOD, 'us-strict-tor3', false],
    ['another name', GOOD, 'us-strict-tor4', true],
    ['another instance', { ...GOOD, 'torfleet.instance': 'other' }, 'us-strict-tor3', true],
    ['not managed', { ...GOOD, 'torfleet.managed': 'no' }, 'us-strict-tor3', true],
    ['a proxy', { ...GOOD, 'torfleet.proxy': 'us-strict-0' }, 'us-strict-tor3', true],
    ['no labels', {}, 'us-strict-tor3', true],
  ];
  for (const [name, labels, tor, refused] of REFUSALS) {
    test(`refuseSharedTorRemoval: ${name}`, () => {
      assert.equal(refuseSharedTorRemoval(labels, 'prod', tor) !== undefined, refused);
    });
  }
});

describe('shared tor names and paths', () => {
  test("the pattern accepts plan/shared-tor-name.ts's names, and no proxy name", () => {
    for (const [pool, index] of [
      ['a', 0],
      ['us-strict', 12],
      ['a-tor', 9999],
      ['x'.repeat(31), 9999],
    ] as const) {
      const name = sharedTorName(pool, index);
      assert.match(name, SHARED_TOR_NAME);
      assert.doesNotMatch(name, PROXY_NAME);
    }
    assert.doesNotMatch(sharedTorName('us', 10000), SHARED_TOR_NAME); // at most 10000 proxies, so K < 10000
    assert.doesNotMatch('us-0', SHARED_TOR_NAME);
  });

  test('paths lie under <stateDir>/shared-tors/<name>', () => {
    assert.deepEqual(torUnitPaths('/srv/state', SHARED_TOR_UNIT, 'us-tor0'), {
      dir: '/srv/state/shared-tors/us-tor0',
      torrcFile: '/srv/state/shared-tors/us-tor0/torrc',
      dataDir: '/srv/state/shared-tors/us-tor0/data',
      recordFile: '/srv/state/shared-tors/us-tor0/process.json',
    });
    assert.equal(torUnitPaths('data', SHARED_TOR_UNIT, 'us-tor0').dir, path.resolve('data', 'shared-tors', 'us-tor0'));
  });

  for (const name of ['../../victim', 'us-0', 'us-tor0/..', '/etc-tor0', '']) {
    test(`refused: ${JSON.stringify(name)}`, () => {
      assert.throws(() => torUnitPaths('/srv/state', SHARED_TOR_UNIT, name), {
        code: 'RUNTIME',
        message: /refusing shared tor name .* \(POOL-torK/,
      });
    });
  }
});
