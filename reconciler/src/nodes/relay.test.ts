import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseTorTime } from './consensus-parser.js';
import { assignedCountry } from './country-codes.js';
import { eligibleCategory, exitIPv4, isUsableExitAddress, type Relay } from './relay.js';

function relay(over: Partial<Relay> = {}): Relay {
  return {
    fingerprint: 'A'.repeat(40),
    nickname: 'r',
    orAddresses: ['198.51.7.1:9001'],
    exitAddresses: [],
    country: 'DE',
    asNumber: null,
    flags: ['Exit', 'Running', 'Valid'],
    running: true,
    exitPolicySummary: null,
    firstSeen: null,
    lastSeen: null,
    ...over,
  };
}

describe('relays_published and other Tor times are real calendar times', () => {
  const CASES: readonly [string, string | undefined][] = [
    ['2022-11-19 10:00:00', '2022-11-19T10:00:00.000Z'],
    ['2024-02-29 23:59:59', '2024-02-29T23:59:59.000Z'],
    ['2022-02-30 10:00:00', undefined], // Date alone rolls it over to 2022-03-02
    ['2023-02-29 10:00:00', undefined], // not a leap year
    ['2022-04-31 00:00:00', undefined],
    ['2022-11-19 24:00:00', undefined],
    ['2022-11-19 10:60:00', undefined],
    ['2022-11-19 10:00:60', undefined],
    ['2022-00-10 10:00:00', undefined],
    ['2022-11-19T10:00:00', undefined],
  ];
  for (const [text, expected] of CASES) {
    test(`"${text}" → ${expected ?? 'refused'}`, () => {
      assert.equal(parseTorTime(text)?.toISOString(), expected);
    });
  }
});

describe('exit addresses a relay can really leave from', () => {
  const CASES: readonly [string, boolean][] = [
    ['198.51.7.1', true],
    ['8.8.8.8', true],
    ['223.255.255.255', true],
    ['127.0.0.11', true], // a private Tor network's exits (TestingTorNetwork)
    ['10.1.2.3', true],
    ['0.0.0.0', false],
    ['0.1.2.3', false],
    ['255.255.255.255', false],
    ['224.0.0.1', false],
    ['239.255.255.250', false],
    ['240.0.0.1', false],
    ['2001:db8::1', false],
    ['not-an-ip', false],
    ['', false],
  ];
  for (const [address, usable] of CASES) {
    test(`${address || '(empty)'}: ${usable ? 'usable' : 'not usable'}`, () => {
      assert.equal(isUsableExitAddress(address), usable);
    });
  }

  test('an unusable exit address falls back to the next one, then to the OR address', () => {
    assert.equal(exitIPv4(relay({ exitAddresses: ['0.0.0.0', '203.0.113.9'] })), '203.0.113.9');
    assert.equal(exitIPv4(relay({ exitAddresses: ['255.255.255.255'] })), '198.51.7.1');
    assert.equal(exitIPv4(relay({ exitAddresses: ['0.0.0.0'], orAddresses: ['255.255.255.255:443'] })), null);
    assert.equal(exitIPv4(relay({ orAddresses: ['[2001:db8::1]:443', '0.0.0.0:9001'] })), null);
  });
});

describe('countries: only assigned ISO 3166-1 alpha-2 codes (the fleet schema list)', () => {
  const CASES: readonly [string | null, string | null][] = [
    ['US', 'US'],
    ['DE', 'DE'],
    ['AQ', 'AQ'],
    ['ZZ', null], // "unknown"
    ['A?', null],
    ['??', null],
    ['A1', null], // "anonymous proxy" in old GeoIP data
    ['EU', null], // Tor's GeoIP: somewhere in Europe
    ['AP', null],
    ['UK', null], // the ISO code is GB
    ['de', null], // stored upper case only; sources upper-case what they read
    ['', null],
    [null, null],
  ];
  for (const [code, expected] of CASES) {
    test(`${String(code)} → ${String(expected)}`, () => {
      assert.equal(assignedCountry(code), expected);
    });
  }
});

describe('eligibleCategory', () => {
  const CASES: readonly [string, Partial<Relay>, string | null][] = [
    ['a DE exit', {}, 'NON_US'],
    ['a US exit', { country: 'US' }, 'US'],
    ['not running', { running: false }, null],
    ['no Exit flag', { flags: ['Running', 'Guard'] }, null],
    ['BadExit', { flags: ['Exit', 'BadExit', 'Running'] }, null],
    ['country ZZ', { country: 'ZZ' }, null],
    ['country A?', { country: 'A?' }, null],
    ['country unknown', { country: null }, null],
    ['exit at 0.0.0.0 only', { exitAddresses: ['0.0.0.0'], orAddresses: ['0.0.0.0:9001'] }, null],
    ['exit at 255.255.255.255 only', { orAddresses: ['255.255.255.255:9001'] }, null],
  ];
  for (const [name, over, expected] of CASES) {
    test(`${name} → ${String(expected)}`, () => {
      assert.equal(eligibleCategory(relay(over)), expected);
    });
  }
});
