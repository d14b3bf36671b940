import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { resolveRegion, type RegionChoice, type RegionNames } from './region.js';

const NAMES: RegionNames = {
  pools: ['us-strict', 'eu', 'de'],
  regions: { 'us-east-1': 'US', 'eu-central-1': 'DE', 'europe-west4': 'eu', 'ap-south-1': 'NON_US', nl: 'eu' },
};

const ACCEPTED: ReadonlyArray<[text: string, want: RegionChoice]> = [
  ['US', { kind: 'geo', geo: 'US', label: 'US' }],
  ['us', { kind: 'geo', geo: 'US', label: 'US' }],
  ['non_us', { kind: 'geo', geo: 'NON_US', label: 'NON_US' }],
  ['DE', { kind: 'geo', geo: ['DE'], label: 'DE' }],
  ['fr', { kind: 'geo', geo: ['FR'], label: 'FR' }],
  ['us-strict', { kind: 'pool', pool: 'us-strict', label: 'us-strict' }],
  // a pool named like a country wins for its exact spelling only
  ['de', { kind: 'pool', pool: 'de', label: 'de' }],
  ['us-east-1', { kind: 'geo', geo: 'US', label: 'us-east-1' }],
  ['eu-central-1', { kind: 'geo', geo: ['DE'], label: 'eu-central-1' }],
  ['europe-west4', { kind: 'pool', pool: 'eu', label: 'europe-west4' }],
  ['ap-south-1', { kind: 'geo', geo: 'NON_US', label: 'ap-south-1' }],
  // a cloud region named like a country wins over the country
  ['nl', { kind: 'pool', pool: 'eu', label: 'nl' }],
  ['NL', { kind: 'geo', geo: ['NL'], label: 'NL' }],
];

const REFUSED: ReadonlyArray<[text: string, says: RegionExpect]> = [
  ['', { has: 'region "" is not known' }],
  ['ZZ', { has: 'region "ZZ" is not known' }],
  ['US-EAST-1', { has: 'not known' }], // region names are exact
  ['EU', { has: 'not known' }], // pool names are exact, EU is no country
  ['constructor', { has: 'not known' }], // no prototype key of the regions object
  ['__proto__', { has: 'not known' }],
  ['x\u0000y\n', { has: 'region "x\\u{0}y\\n" is not known' }],
  ['a'.repeat(500), { has: `${'a'.repeat(64)}…" (500 characters)` }],
];
interface RegionExpect {
  readonly has: string;
}

describe('resolveRegion', () => {
  for (const [text, want] of ACCEPTED) {
    test(`"${text}"`, () => {
      assert.deepEqual(resolveRegion(text, NAMES), { ok: true, region: want });
    });
  }
  for (const [text, { has }] of REFUSED) {
    test(`refused: ${JSON.stringify(text.slice(0, 20))}`, () => {
      const resolved = resolveRegion(text, NAMES);
      if (resolved.ok) assert.fail(`accepted as ${JSON.stringify(resolved.region)}`);
      const { message } = resolved;
      assert.ok(message.includes(has), message);
      assert.match(
        message,
        /use US, NON_US, a country code such as DE, a pool \(us-strict, eu, de\) or a region \(us-east-1,/,
      );
    });
  }

  test('a fleet without pools or regions says so', () => {
    const resolved = resolveRegion('mars', { pools: [], regions: {} });
    assert.deepEqual(resolved, {
      ok: false,
      message: 'region "mars" is not known: use US, NON_US, a country code such as DE, a pool (none)',
    });
  });
});
