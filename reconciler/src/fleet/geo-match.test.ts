import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { GeoSelector } from './fleet-types.js';
import {
  countryInGeo,
  countryInPoolGeo,
  geoCategoryOf,
  geoOfFilter,
  inPoolGeo,
  proxyMatchesGeo,
  proxyServesGeo,
  rotatingExitCountries,
  type ProxyGeo,
} from './geo-match.js';

describe('countryInPoolGeo: the one geo rule', () => {
  const CASES: readonly [string | null, GeoSelector, readonly string[], boolean][] = [
    ['US', 'US', [], true],
    ['DE', 'US', [], false],
    [null, 'US', [], false],
    ['US', 'US', ['US'], false],
    ['DE', 'NON_US', [], true],
    ['US', 'NON_US', [], false],
    [null, 'NON_US', [], false],
    ['DE', 'NON_US', ['DE'], false],
    ['NL', 'NON_US', ['DE'], true],
    ['DE', ['DE', 'NL'], [], true],
    ['FR', ['DE', 'NL'], [], false],
    ['US', ['US', 'DE'], [], true],
    ['NL', ['DE', 'NL'], ['NL'], false],
    [null, ['DE'], [], false],
    ['FR', ['DE'], ['FR'], false],
  ];
  for (const [country, geo, exclude, expected] of CASES) {
    test(`${String(country)} in ${JSON.stringify(geo)} minus ${JSON.stringify(exclude)}: ${expected}`, () => {
      assert.equal(countryInPoolGeo(country, geo, exclude), expected);
      if (exclude.length === 0) assert.equal(countryInGeo(country, geo), expected);
    });
  }

  test('inPoolGeo keeps the order of what it filters', () => {
    const exits = [{ country: 'NL' }, { country: 'US' }, { country: null }, { country: 'DE' }];
    assert.deepEqual(inPoolGeo(exits, 'NON_US', []), [{ country: 'NL' }, { country: 'DE' }]);
  });
});

describe('the ?geo= filter in the rule terms', () => {
  test('geoOfFilter: a category in any case, else one country', () => {
    assert.deepEqual(['us', 'NON_US', 'non_us', 'de', 'DE'].map(geoOfFilter), [
      'US',
      'NON_US',
      'NON_US',
      ['DE'],
      ['DE'],
    ]);
  });

  const US_POOL: ProxyGeo = { geo: 'US', exitCountries: ['US'] };
  const NON_US_PINNED: ProxyGeo = { geo: 'NON_US', exitCountries: ['DE'] };
  const NON_US_ROTATING: ProxyGeo = { geo: 'NON_US', exitCountries: [] };
  const US_NO_EXITS: ProxyGeo = { geo: 'US', exitCountries: [] };
  const LIST: ProxyGeo = { geo: ['DE', 'NL'], exitCountries: ['DE'] };
  const LIST_WITH_US: ProxyGeo = { geo: ['US', 'DE'], exitCountries: ['US'] };
  const CASES: readonly [string, ProxyGeo, string, boolean][] = [
    ['a US pool', US_POOL, 'US', true],
    ['a US pool', US_POOL, 'NON_US', false],
    ['a US pool without exits yet', US_NO_EXITS, 'US', true],
    ['a pinned NON_US pool', NON_US_PINNED, 'NON_US', true],
    ['a pinned NON_US pool', NON_US_PINNED, 'DE', true],
    ['a pinned NON_US pool', NON_US_PINNED, 'FR', false],
    ['a pinned NON_US pool', NON_US_PINNED, 'US', false],
    ['a rotating NON_US pool', NON_US_ROTATING, 'NON_US', true],
    ['a rotating NON_US pool', NON_US_ROTATING, 'DE', false],
    ['a [DE, NL] pool', LIST, 'NL', true],
    ['a [DE, NL] pool', LIST, 'NON_US', true],
    ['a [DE, NL] pool', LIST, 'US', false],
    ['a [US, DE] pool', LIST_WITH_US, 'US', true],
    ['a [US, DE] pool', LIST_WITH_US, 'NON_US', true],
    ['a [US, DE] pool', LIST_WITH_US, 'FR', false],
  ];
  for (const [name, proxy, filter, expected] of CASES) {
    test(`${name} ${expected ? 'matches' : 'does not match'} ?geo=${filter}`, () => {
      assert.equal(proxyMatchesGeo(proxy, geoOfFilter(filter)), expected);
    });
  }
});

describe('the rule as tor applies it to a rotating proxy, and the geo category', () => {
  const CASES: readonly [GeoSelector, readonly string[], string[], string[], 'US' | 'NON_US'][] = [
    ['US', [], ['US'], [], 'US'],
    ['NON_US', [], [], ['US'], 'NON_US'],
    ['NON_US', ['DE', 'US'], [], ['US', 'DE'], 'NON_US'],
    [['DE', 'NL'], ['NL'], ['DE'], [], 'NON_US'],
    [['US'], [], ['US'], [], 'US'],
    [['US', 'DE'], [], ['US', 'DE'], [], 'NON_US'],
  ];
  for (const [geo, exclude, exitNodes, excludeExitNodes, category] of CASES) {
    test(`${JSON.stringify(geo)} minus ${JSON.stringify(exclude)}`, () => {
      assert.deepEqual(rotatingExitCountries(geo, exclude), { exitNodes, excludeExitNodes });
      assert.equal(geoCategoryOf(geo), category);
      // Whatever tor may pick under these lines is in the pool's geo by the one rule.
      for (const country of ['US', 'DE', 'NL', 'FR']) {
        const allowed = (exitNodes.length === 0 || exitNodes.includes(country)) && !excludeExitNodes.includes(country);
        assert.equal(allowed, countryInPoolGeo(country, geo, exclude), country);
      }
    });
  }
});

describe('proxyServesGeo: every country the proxy may exit in lies within the route geo', () => {
  const pool = (
    geo: GeoSelector,
    exclude: readonly string[] = [],
  ): { geo: GeoSelector; exclude: readonly string[] } => ({
    geo,
    exclude,
  });
  const CASES: readonly [string, ReturnType<typeof pool>, readonly (string | null)[], GeoSelector, boolean][] = [
    ['US pool, geo-us', pool('US'), [], 'US', true],
    ['US pool, geo-us as a country', pool('US'), [], ['US'], true],
    ['US pool, geo-non_us', pool('US'), [], 'NON_US', false],
    ['NON_US pool without exits, geo-non_us', pool('NON_US'), [], 'NON_US', true],
    ['NON_US pool without exits, geo-de', pool('NON_US'), [], ['DE'], false],
    ['NON_US pool exiting in DE, geo-de', pool('NON_US'), ['DE'], ['DE'], true],
    ['NON_US pool exiting in DE and NL, geo-de', pool('NON_US'), ['DE', 'NL'], ['DE'], false],
    ['NON_US pool exiting in DE, geo-non_us', pool('NON_US'), ['DE'], 'NON_US', true],
    ['[DE, NL] pool without exits, geo-de', pool(['DE', 'NL']), [], ['DE'], false],
    ['[DE, NL] pool without exits, geo-non_us', pool(['DE', 'NL']), [], 'NON_US', true],
    ['[DE, NL] pool minus NL, geo-de', pool(['DE', 'NL'], ['NL']), [], ['DE'], true],
    ['[DE, NL] proxy exiting in DE, geo-de', pool(['DE', 'NL']), ['DE'], ['DE'], true],
    ['[DE, NL] proxy exiting in NL, geo-de', pool(['DE', 'NL']), ['NL'], ['DE'], false],
    ['[DE] pool, geo-de', pool(['DE']), [], ['DE'], true],
    ['[US, DE] pool, geo-us', pool(['US', 'DE']), [], 'US', false],
    ['[US, DE] pool, geo-non_us', pool(['US', 'DE']), [], 'NON_US', false],
    ['[US, DE] proxy exiting in US, geo-us', pool(['US', 'DE']), ['US'], 'US', true],
    ['exit of unknown country, geo-non_us', pool('NON_US'), [null], 'NON_US', false],
    ['one exit of unknown country among known ones', pool('NON_US'), ['DE', null], ['DE'], false],
  ];
  for (const [name, proxyPool, exits, geo, expected] of CASES) {
    test(`${name}: ${expected}`, () => {
      assert.equal(proxyServesGeo(proxyPool, exits, geo), expected);
    });
  }
});
