import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseAnnounce, parseQueryBytes } from './announce-query.js';

/** Every byte percent-escaped, as BitTorrent clients send info_hash and peer_id. */
const escapeBytes = (bytes: Buffer): string => [...bytes].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');

const HASH = Buffer.from('c3a9ff00fe80e28093deadbeef0011223344556677', 'hex').subarray(0, 20);
const PEER = Buffer.from('-AR1360-\xff\xfe\x00\x80abcdefgh', 'latin1');
const base = (extra = ''): string =>
  `info_hash=${escapeBytes(HASH)}&peer_id=${escapeBytes(PEER)}&port=6881&uploaded=0&downloaded=0&left=100${extra}`;

describe('parseQueryBytes', () => {
  test('percent-escapes decode to raw bytes, not UTF-8 (URLSearchParams would turn %ff into U+FFFD)', () => {
    const params = parseQueryBytes('a=%ff%00%80&b=x+y&c=&d');
    assert.ok(params instanceof Map);
    assert.deepEqual(params.get('a'), Buffer.from([0xff, 0x00, 0x80]));
    assert.deepEqual(params.get('b'), Buffer.from('x y'));
    assert.deepEqual(params.get('c'), Buffer.alloc(0));
    assert.deepEqual(params.get('d'), Buffer.alloc(0));
    assert.notEqual(new URLSearchParams('a=%ff').get('a'), '\xff');
  });

  test('a literal unescaped byte next to escapes (clients leave unreserved bytes as they are)', () => {
    const params = parseQueryBytes('info_hash=ab%01-._~');
    assert.ok(params instanceof Map);
    assert.deepEqual(params.get('info_hash'), Buffer.from([0x61, 0x62, 0x01, 0x2d, 0x2e, 0x5f, 0x7e]));
  });

  const bad: [string, string, RegExp][] = [
    ['malformed escape', 'a=%zz', /percent/],
    ['truncated escape', 'a=%f', /percent/],
    ['duplicated name', 'a=1&a=2', /more than once/],
    ['too many params', Array.from({ length: 40 }, (_, i) => `p${String(i)}=1`).join('&'), /parameters/],
    ['oversized', `a=${'x'.repeat(5000)}`, /longer/],
    ['raw non-ASCII', 'a=\u00e9', /percent/],
  ];
  for (const [name, query, reason] of bad) {
    test(`refused: ${name}`, () => {
      const result = parseQueryBytes(query);
      assert.equal(typeof result, 'string');
      assert.match(result as string, reason);
    });
  }
});

describe('parseAnnounce', () => {
  test('a full announce', () => {
    const result = parseAnnounce(`${base()}&event=started&numwant=10&compact=1&key=abc&ip=10.0.0.1`);
    assert.ok(result.ok);
    assert.equal(result.announce.infoHash, HASH.toString('hex'));
    assert.deepEqual(result.announce.peerId, PEER);
    assert.equal(result.announce.port, 6881);
    assert.equal(result.announce.left, 100);
    assert.equal(result.announce.event, 'started');
    assert.equal(result.announce.numwant, 10);
    assert.equal(result.announce.compact, true);
    assert.equal(result.announce.ip, '10.0.0.1');
  });

  test('compact is the default; compact=0 asks for the dictionary list; an empty event is none', () => {
    const a = parseAnnounce(`${base()}&event=`);
    assert.ok(a.ok);
    assert.equal(a.announce.compact, true);
    assert.equal(a.announce.event, null);
    assert.equal(a.announce.numwant, null);
    const b = parseAnnounce(`${base()}&compact=0&no_peer_id=1`);
    assert.ok(b.ok);
    assert.equal(b.announce.compact, false);
    assert.equal(b.announce.noPeerId, true);
  });

  const bad: [string, string, RegExp][] = [
    ['no info_hash', 'peer_id=x&port=1&left=0', /info_hash/],
    ['short info_hash', `info_hash=abc&peer_id=${escapeBytes(PEER)}&port=1&left=0`, /info_hash/],
    [
      'long peer_id',
      `info_hash=${escapeBytes(HASH)}&peer_id=${escapeBytes(Buffer.alloc(21))}&port=1&left=0`,
      /peer_id/,
    ],
    ['port 0', base().replace('port=6881', 'port=0'), /port/],
    ['port 70000', base().replace('port=6881', 'port=70000'), /port/],
    ['port -1', base().replace('port=6881', 'port=-1'), /port/],
    ['no left', base().replace('&left=100', ''), /left missing/],
    ['left not a number', base().replace('left=100', 'left=1e9'), /left not/],
    ['uploaded negative', base().replace('uploaded=0', 'uploaded=-5'), /uploaded/],
    ['huge number', base().replace('left=100', `left=${'9'.repeat(30)}`), /left/],
    ['unknown event', `${base()}&event=exploded`, /event/],
    ['numwant not a number', `${base()}&numwant=lots`, /numwant/],
    ['duplicated info_hash', `${base()}&info_hash=${escapeBytes(HASH)}`, /more than once/],
  ];
  for (const [name, query, reason] of bad) {
    test(`refused: ${name}`, () => {
      const result = parseAnnounce(query);
      assert.ok(!result.ok);
      assert.match(result.reason, reason);
    });
  }
});
