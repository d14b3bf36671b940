import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MAX_RELAYS, OnionooDetailsParser, parseOnionooDetails } from './onionoo-details.js';

const FP = (c: string): string => c.repeat(40);

/** Tricky but valid: escaped quotes and brackets inside strings, unicode, nested unknown members, odd spacing. */
const DOCUMENT = `
{ "version" : "8.0", "unknown": {"a": [1, {"b": "]}\\""}]},
  "relays_published": "2022-11-19 10:00:00",
  "relays" : [
    {"nickname": "Br4ckets", "fingerprint": "${FP('a')}", "contact": "x]}{[\\"\\\\", "flags": ["Exit", "Running"],
     "or_addresses": ["192.0.2.1:443", "[2001:db8::1]:443"], "country": "de", "as": "AS64496",
     "exit_policy_summary": {"reject": ["25"]}, "first_seen": "2020-01-01 00:00:00", "running": true},
    {"fingerprint": "${FP('B')}", "nickname": "Üñïçødé", "exit_addresses": ["198.51.100.7"], "running": false} ,
    {"fingerprint": "${FP('c')}"}
  ],
  "bridges_published": "2022-11-19 10:00:00", "bridges": []
}
`;

function feed(chunkSizes: (i: number) => number): ReturnType<typeof parseOnionooDetails> {
  const bytes = Buffer.from(DOCUMENT);
  const parser = new OnionooDetailsParser('doc');
  for (let offset = 0, i = 0; offset < bytes.length; i++) {
    const size = chunkSizes(i);
    parser.push(bytes.subarray(offset, offset + size));
    offset += size;
  }
  return parser.finish();
}

describe('OnionooDetailsParser', () => {
  const whole = parseOnionooDetails(Buffer.from(DOCUMENT), 'doc');

  test('maps fields: upper-case fingerprint and country, ISO times, defaults for missing ones', () => {
    assert.equal(whole.relaysPublished.toISOString(), '2022-11-19T10:00:00.000Z');
    assert.deepEqual(whole.relays[0], {
      fingerprint: FP('A'),
      nickname: 'Br4ckets',
      orAddresses: ['192.0.2.1:443', '[2001:db8::1]:443'],
      exitAddresses: [],
      country: 'DE',
      asNumber: 'AS64496',
      flags: ['Exit', 'Running'],
      running: true,
      exitPolicySummary: { reject: ['25'] },
      firstSeen: '2020-01-01T00:00:00.000Z',
      lastSeen: null,
    });
    assert.deepEqual(
      whole.relays.map((r) => [r.nickname, r.running, r.exitAddresses]),
      [
        ['Br4ckets', true, []],
        ['Üñïçødé', false, ['198.51.100.7']],
        ['Unnamed', true, []],
      ],
    );
  });

  const CHUNKINGS: readonly [string, (i: number) => number][] = [
    ['one byte at a time', () => 1],
    ['7-byte chunks', () => 7],
    ['growing chunks', (i) => i + 1],
    ['64 KiB chunks', () => 65536],
  ];
  for (const [name, sizes] of CHUNKINGS) {
    test(`${name} gives the same result as one buffer (multi-byte UTF-8 split across chunks included)`, () => {
      assert.deepEqual(feed(sizes), whole);
    });
  }

  test('a document cut anywhere is reported as truncated, never accepted', () => {
    const bytes = Buffer.from(DOCUMENT.trimEnd());
    for (let cut = 0; cut < bytes.length; cut += 13) {
      const parser = new OnionooDetailsParser('doc');
      assert.throws(
        () => {
          parser.push(bytes.subarray(0, cut));
          parser.finish();
        },
        /truncated|expected shape|required property/,
        `cut at ${cut}`,
      );
    }
  });

  const BAD: readonly [string, string, RegExp][] = [
    ['not an object', '[]', /expected \{ at byte 0/],
    [
      'garbage after the document',
      '{"relays_published": "2022-11-19 10:00:00", "relays": []} x',
      /unexpected data after the document/,
    ],
    [
      'a relay without fingerprint',
      '{"relays": [{"nickname": "x"}]',
      /\/relays\/0 must have required property 'fingerprint'/,
    ],
    ['a malformed relay', '{"relays": [{"fingerprint": }]}', /expected shape/],
    ['missing relays_published', '{"relays": []}', /must have required property 'relays_published'/],
    ['relays not a list', '{"relays_published": "2022-11-19 10:00:00", "relays": 5}', /\/relays must be array/],
    [
      'bad relays_published',
      '{"relays_published": "yesterday", "relays": []}',
      /\/relays_published must match pattern/,
    ],
  ];
  for (const [name, text, error] of BAD) {
    test(`rejects ${name}`, () => {
      assert.throws(() => parseOnionooDetails(Buffer.from(text), 'doc'), error);
    });
  }
});

describe('OnionooDetailsParser bounds what it keeps', () => {
  const PUBLISHED = '"relays_published": "2022-11-19 10:00:00"';

  test('unknown members of every JSON kind are skipped, fed one byte at a time', () => {
    const text = `{"n": -1.5e3, "t": true, "z": null, "s": "a\\"]}\\\\", "o": {"x": [1, "}", {}], "y": []},
      ${PUBLISHED}, "relays": [{"fingerprint": "${FP('d')}"}], "bridges": [{"a": 1}], "last":0}`;
    const parser = new OnionooDetailsParser('doc');
    for (const byte of Buffer.from(text)) parser.push(Buffer.from([byte]));
    assert.deepEqual(
      parser.finish().relays.map((r) => r.fingerprint),
      [FP('D')],
    );
  });

  test('an unknown member far larger than any single-value limit is skipped', () => {
    const parser = new OnionooDetailsParser('doc');
    parser.push(Buffer.from(`{${PUBLISHED}, "relays": [], "huge": "`));
    const run = Buffer.alloc(1024 * 1024, 'a');
    for (let i = 0; i < 40; i++) parser.push(run); // 40 MiB of one string
    parser.push(Buffer.from('"}'));
    assert.equal(parser.finish().relays.length, 0);
  });

  const REFUSED: readonly [string, string, RegExp][] = [
    ['relays twice', `{${PUBLISHED}, "relays": [], "relays": []}`, /"relays" appears twice/],
    ['relays_published twice', `{${PUBLISHED}, ${PUBLISHED}, "relays": []}`, /"relays_published" appears twice/],
    [
      'a relay over 1 MiB',
      `{${PUBLISHED}, "relays": [{"fingerprint": "${FP('e')}", "contact": "${'x'.repeat(1024 * 1024)}"}]}`,
      /relay 0 is larger than 1048576 bytes/,
    ],
    [
      'a kept member over 64 KiB',
      `{"relays_published": "${'1'.repeat(70 * 1024)}", "relays": []}`,
      /top-level member name or value is larger than 65536 bytes/,
    ],
    ['an unknown member that is not a value', `{${PUBLISHED}, "x": ]}`, /expected a value/],
  ];
  for (const [name, text, error] of REFUSED) {
    test(`refuses ${name}`, () => {
      const parser = new OnionooDetailsParser('doc');
      assert.throws(() => {
        for (let at = 0; at < text.length; at += 65536) parser.push(Buffer.from(text.slice(at, at + 65536)));
        parser.finish();
      }, error);
    });
  }

  test('refuses more relays than any Tor network has', () => {
    const parser = new OnionooDetailsParser('doc');
    parser.push(Buffer.from(`{${PUBLISHED}, "relays": [`));
    const relay = Buffer.from(`{"fingerprint": "${FP('f')}"},`);
    assert.throws(
      () => {
        for (let i = 0; i <= MAX_RELAYS; i++) parser.push(relay);
      },
      new RegExp(`more than ${MAX_RELAYS} relays`),
    );
  });
});
