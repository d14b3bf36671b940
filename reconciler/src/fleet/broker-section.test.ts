import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { load, POOLS, testBadCases, type BadCase } from './gateway-section-fixture.js';

/** fleet.yaml `broker:` (cloud region names). Lines 1-13: pools `eu` and `us`; line 14 `broker:`, 15 `regions:`. */
const regions = (...lines: string[]): string =>
  `${POOLS}broker:\n  regions:\n${lines.map((line) => `    ${line}\n`).join('')}`;

const BAD: readonly BadCase[] = [
  {
    name: 'a region mapped to nothing known',
    text: regions('us-east-1: mars'),
    path: 'broker.regions.us-east-1',
    at: [16, 16],
    says: 'region "us-east-1" maps to "mars", which is no region: use US, NON_US, a country code such as DE, or one of the pools: eu, us',
  },
  {
    name: 'a country code in lower case',
    text: regions('eu-central-1: de'),
    path: 'broker.regions.eu-central-1',
    at: [16, 19],
    says: 'write it in upper case: DE',
  },
  {
    name: 'an unassigned country code',
    text: regions('eu-west-9: ZZ'),
    path: 'broker.regions.eu-west-9',
    at: [16, 16],
    says: 'which is no region',
  },
  {
    name: 'a region that is also a pool name',
    text: regions('eu: DE'),
    path: 'broker.regions.eu',
    at: [16, 9],
    says: '"eu" is a pool\'s name too',
  },
  {
    name: 'a region mapped to another region (no chains)',
    text: regions('us-east-1: US', 'us-east-2: us-east-1'),
    path: 'broker.regions.us-east-2',
    at: [17, 16],
    says: 'which is no region',
  },
  {
    name: 'a region name with upper case',
    text: regions('US-East-1: US'),
    path: 'broker.regions',
    at: [16, 5],
    says: 'US-East-1',
  },
  {
    name: 'a region mapped to a list',
    text: regions('us-east-1: [US]'),
    path: 'broker.regions.us-east-1',
    at: [16, 16],
    says: 'expected a string',
  },
  {
    name: 'an unknown key',
    text: `${POOLS}broker:\n  region: {}\n`,
    path: 'broker.region',
    at: [15, 3],
    says: 'did you mean "regions"?',
  },
];

describe('fleet.yaml broker:', () => {
  testBadCases(BAD);

  test('regions map to US, NON_US, a country or a pool', () => {
    const { fleet } = load(regions('us-east-1: US', 'ap-south-1: NON_US', 'eu-central-1: DE', 'europe-west4: eu'));
    assert.deepEqual(fleet.broker.regions, {
      'us-east-1': 'US',
      'ap-south-1': 'NON_US',
      'eu-central-1': 'DE',
      'europe-west4': 'eu',
    });
  });

  test('no section, or broker: null: no region names', () => {
    assert.deepEqual(load(POOLS).fleet.broker, { regions: {} });
    assert.deepEqual(load(`${POOLS}broker: null\n`).fleet.broker, { regions: {} });
  });
});
