import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bestCandidate, hash32, score } from './rendezvous.js';
import { canonicalJson, specHashOf } from './spec-hash.js';

describe('hash32 (FNV-1a)', () => {
  const CASES: readonly [string, number][] = [
    ['', 0x811c9dc5],
    ['a', 0xe40c292c],
    ['foobar', 0xbf9cf968],
  ];
  for (const [text, expected] of CASES) {
    test(JSON.stringify(text), () => {
      assert.equal(hash32(text), expected);
    });
  }
});

describe('rendezvous choice', () => {
  const candidates = Array.from({ length: 200 }, (_, i) => `exit-${i}`);
  const hashes = candidates.map(hash32);

  test('each proxy prefers different candidates: 1000 proxies spread over many first choices', () => {
    const firsts = new Set(
      Array.from({ length: 1000 }, (_, i) => bestCandidate(hash32(`p-${i}`), candidates, hashes, () => true)),
    );
    assert.ok(firsts.size > 150, `only ${firsts.size} distinct first choices`);
  });

  test('removing a candidate changes only the choices that were that candidate', () => {
    const proxies = Array.from({ length: 500 }, (_, i) => hash32(`p-${i}`));
    const before = proxies.map((p) => bestCandidate(p, candidates, hashes, () => true));
    const gone = 'exit-17';
    const after = proxies.map((p) => bestCandidate(p, candidates, hashes, (c) => c !== gone));
    proxies.forEach((_, i) => {
      if (before[i] !== gone) assert.equal(after[i], before[i]);
      else assert.notEqual(after[i], gone);
    });
  });

  test('scores are 32-bit unsigned', () => {
    for (let i = 0; i < 100; i++) {
      const s = score(hash32(`a${i}`), hash32(`b${i}`));
      assert.ok(Number.isInteger(s) && s >= 0 && s < 2 ** 32);
    }
  });
});

describe('spec hash', () => {
  test('canonical JSON sorts keys at every depth and keeps array order', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [2, 1], c: null } }), '{"a":{"c":null,"d":[2,1]},"b":1}');
  });
  test('equal values hash alike whatever their key order; any change changes the hash', () => {
    assert.equal(specHashOf({ x: 1, y: [1, 2] }), specHashOf({ y: [1, 2], x: 1 }));
    assert.notEqual(specHashOf({ x: 1, y: [1, 2] }), specHashOf({ x: 1, y: [2, 1] }));
    assert.match(specHashOf({}), /^[0-9a-f]{20}$/);
  });
});
