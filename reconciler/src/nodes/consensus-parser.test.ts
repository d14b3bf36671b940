import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { sharedConsensusFile, sharedGeoIpFile } from '../testing/shared-data.js';
import { parseConsensus, parseTorTime } from './consensus-parser.js';
import { parseGeoIp } from './geoip.js';
import { network16 } from './relay.js';

describe('parseConsensus on the real 2022-11-19 consensus', () => {
  const consensus = parseConsensus(readFileSync(sharedConsensusFile, 'utf8'), sharedConsensusFile);
  const withFlag = (flag: string) => consensus.entries.filter((e) => e.flags.includes(flag));

  test('reproduces the published counts: 6088 relays, 1438 Exit, 11 BadExit (10 also Exit), 3020 Guard', () => {
    assert.equal(consensus.entries.length, 6088);
    assert.equal(withFlag('Exit').length, 1438);
    assert.equal(withFlag('BadExit').length, 11);
    assert.equal(withFlag('BadExit').filter((e) => e.flags.includes('Exit')).length, 10);
    assert.equal(withFlag('Guard').length, 3020);
    assert.equal(consensus.entries.filter((e) => e.policy && 'accept' in e.policy).length, 1282);
  });

  test('reads valid-after and decodes identities to hex fingerprints', () => {
    assert.equal(consensus.validAfter.toISOString(), '2022-11-19T10:00:00.000Z');
    const first = consensus.entries[0];
    assert.deepEqual(first && [first.nickname, first.fingerprint, first.address, first.orPort], [
      'seele',
      '000A10D43011EA4928A35F610405F92B4433B4DC',
      '104.53.221.159',
      9001,
    ]);
    assert.ok(consensus.entries.every((e) => /^[0-9A-F]{40}$/.test(e.fingerprint)));
  });

  test('with the real GeoIP file the exits fall in 55 countries (US 295, non-US 1143) and 352 /16s', () => {
    const geoip = parseGeoIp(readFileSync(sharedGeoIpFile, 'utf8'), sharedGeoIpFile);
    const exits = withFlag('Exit');
    const countries = exits.map((e) => geoip.countryOf(e.address));
    assert.equal(new Set(countries).size, 55);
    assert.equal(countries.filter((c) => c === 'US').length, 295);
    assert.equal(countries.filter((c) => c !== 'US').length, 1143);
    assert.equal(new Set(exits.map((e) => network16(e.address))).size, 352);
    assert.equal(exits.filter((e) => e.address.startsWith('185.220.')).length, 215);
  });
});

describe('parseConsensus edge cases', () => {
  const header = 'network-status-version 3\nvote-status consensus\nvalid-after 2022-11-19 10:00:00\n';
  const CASES: readonly { name: string; text: string; error?: RegExp; entries?: number }[] = [
    { name: 'not a consensus at all', text: '<html>hello</html>', error: /:1: expected "network-status-version 3"/ },
    {
      name: 'a vote, not a consensus',
      text: 'network-status-version 3\nvote-status vote\nvalid-after 2022-11-19 10:00:00\n',
      error: /no "vote-status consensus"/,
    },
    { name: 'no valid-after', text: 'network-status-version 3\nvote-status consensus\n', error: /no valid-after/ },
    {
      name: 'unreadable valid-after',
      text: 'network-status-version 3\nvote-status consensus\nvalid-after yesterday\n',
      error: /:3: unreadable valid-after/,
    },
    { name: 'malformed r line', text: `${header}r onlyname\n`, error: /:4: malformed "r" line/ },
    {
      name: 'bad identity',
      text: `${header}r n !!!! digest 2022-11-19 03:58:26 1.2.3.4 9001 0\n`,
      error: /:4: malformed/,
    },
    {
      name: 'microdesc flavour (no digest) with an IPv6 a line',
      text: `${header}r relay1 AAoQ1DAR6kkoo19hBAX5K0QztNw 2022-11-19 03:58:26 192.0.2.5 443 0\na [2001:db8::5]:443\ns Exit Running Valid\np accept 80,443\n`,
      entries: 1,
    },
    { name: 'an empty consensus', text: header, entries: 0 },
  ];
  for (const c of CASES) {
    test(c.name, () => {
      if (c.error) {
        assert.throws(() => parseConsensus(c.text, 'doc'), c.error);
        return;
      }
      const parsed = parseConsensus(c.text, 'doc');
      assert.equal(parsed.entries.length, c.entries);
      if (c.entries === 1) {
        const [entry] = parsed.entries;
        assert.ok(entry);
        assert.deepEqual(entry.extraOrAddresses, ['[2001:db8::5]:443']);
        assert.deepEqual(entry.policy, { accept: ['80', '443'] });
      }
    });
  }

  test('parseTorTime', () => {
    assert.equal(parseTorTime('2022-11-19 10:00:00')?.toISOString(), '2022-11-19T10:00:00.000Z');
    assert.equal(parseTorTime('2022-11-19T10:00:00'), undefined);
    assert.equal(parseTorTime('2022-13-45 99:00:00'), undefined);
  });
});
