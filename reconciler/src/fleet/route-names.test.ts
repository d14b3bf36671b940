import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { GeoSelector } from './fleet-types.js';
import { geoOfRouteName, geoRouteName, routeNameClash, splitProxyName } from './route-names.js';

describe('splitProxyName', () => {
  const CASES: readonly [string, { pool: string; index: number } | undefined][] = [
    ['us-strict-2', { pool: 'us-strict', index: 2 }],
    ['eu-2-0', { pool: 'eu-2', index: 0 }],
    ['eu-0', { pool: 'eu', index: 0 }],
    ['eu-9999', { pool: 'eu', index: 9999 }],
    ['eu-02', undefined],
    ['eu-', undefined],
    ['-1', undefined],
    ['eu', undefined],
    ['eu-1a', undefined],
  ];
  for (const [name, expected] of CASES) {
    test(name, () => {
      assert.deepEqual(splitProxyName(name), expected);
    });
  }
});

describe('geo route names', () => {
  const CASES: readonly [string, GeoSelector | undefined][] = [
    ['geo-us', 'US'],
    ['geo-non_us', 'NON_US'],
    ['geo-de', ['DE']],
    ['geo-gb', ['GB']],
    ['geo-uk', undefined],
    ['geo-zz', undefined],
    ['geo-DE', undefined],
    ['geo-deu', undefined],
    ['geo-', undefined],
    ['de', undefined],
    ['geo-non-us', undefined],
  ];
  for (const [name, geo] of CASES) {
    test(`${name}: ${JSON.stringify(geo)}`, () => {
      assert.deepEqual(geoOfRouteName(name), geo);
    });
  }
  test('geoRouteName is the inverse', () => {
    assert.deepEqual(['US', 'NON_US', 'DE'].map(geoRouteName), ['geo-us', 'geo-non_us', 'geo-de']);
  });
});

describe('routeNameClash: a route name must mean one thing', () => {
  const POOLS = new Map([
    ['eu', 2],
    ['us-strict', 3],
    ['empty', 0],
  ]);
  const CASES: readonly [name: string, strict: boolean, clash: RegExp | undefined][] = [
    ['provider', true, undefined],
    ['eu-1', true, /proxy 1 of pool "eu"/],
    ['eu-2', true, /proxy 2 of pool "eu"/],
    ['eu-2', false, undefined],
    ['eu-1', false, /proxy 1 of pool "eu"/],
    ['empty-0', true, /proxy 0 of pool "empty"/],
    ['empty-0', false, undefined],
    ['us-strict-0', false, /pool "us-strict"/],
    ['us-0', true, undefined],
    ['eu-01', true, undefined],
    ['geo-fast', false, /geo routes/],
    ['a-session-b', false, /session suffix/],
    ['a-session', true, undefined],
    ['session-a', true, undefined],
  ];
  for (const [name, strict, clash] of CASES) {
    test(`${name}${strict ? ' (gateway section)' : ''}`, () => {
      const found = routeNameClash(name, POOLS, strict);
      if (clash) assert.match(found ?? '', clash);
      else assert.equal(found, undefined);
    });
  }
});
