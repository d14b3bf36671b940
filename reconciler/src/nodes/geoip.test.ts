import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ipv4ToNumber, parseGeoIp } from './geoip.js';

describe('GeoIP lookups', () => {
  // 127.0.0.11 → US and 127.0.0.12 → DE, as the private test network's GeoIP file maps its exits.
  const geoip = parseGeoIp(
    [
      '# test file',
      `${ipv4ToNumber('127.0.0.12')},${ipv4ToNumber('127.0.0.12')},DE`,
      `${ipv4ToNumber('127.0.0.11')},${ipv4ToNumber('127.0.0.11')},us`,
      '16777216,16777471,AU',
      '16777472,16778239,??',
      '',
    ].join('\n'),
    'test-geoip',
  );
  const CASES: readonly [string, string | null][] = [
    ['127.0.0.11', 'US'],
    ['127.0.0.12', 'DE'],
    ['127.0.0.13', null],
    ['1.0.0.0', 'AU'],
    ['1.0.0.255', 'AU'],
    ['1.0.1.0', null], // ?? is unknown
    ['0.0.0.1', null],
    ['255.255.255.255', null],
    ['not-an-ip', null],
    ['1.2.3.256', null],
  ];
  for (const [ip, country] of CASES) {
    test(`${ip} → ${String(country)}`, () => {
      assert.equal(geoip.countryOf(ip), country);
    });
  }
  test('ranges are counted and sorted whatever the file order', () => {
    assert.equal(geoip.ranges, 4);
  });
  test('a geoip6 file or garbage is rejected with its line', () => {
    assert.throws(() => parseGeoIp('# c\n::1,::2,US\n', 'geoip6'), /geoip6:2: expected "startnum,endnum,CC"/);
    assert.throws(() => parseGeoIp('10,5,US\n', 'g'), /g:1:/);
  });
});
