import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { addressesOverlap, canonicalAddress, isLoopbackAddress, parseEndpoint } from './ip-address.js';
import { quoteText } from './display-text.js';

describe('canonicalAddress: one text per address', () => {
  const CASES: readonly [string, string | undefined][] = [
    ['127.0.0.1', '127.0.0.1'],
    ['::ffff:127.0.0.1', '127.0.0.1'],
    ['::FFFF:7f00:1', '127.0.0.1'],
    ['::1', '0000:0000:0000:0000:0000:0000:0000:0001'],
    ['0:0:0:0:0:0:0:1', '0000:0000:0000:0000:0000:0000:0000:0001'],
    ['0:0::0', '0000:0000:0000:0000:0000:0000:0000:0000'],
    ['2001:DB8::1', '2001:0db8:0000:0000:0000:0000:0000:0001'],
    ['::1.2.3.4', '0000:0000:0000:0000:0000:0000:0102:0304'],
    ['fe80::1%eth0', undefined],
    ['localhost', undefined],
    ['1.2.3', undefined],
  ];
  for (const [text, canonical] of CASES) {
    test(text, () => {
      assert.equal(canonicalAddress(text), canonical);
    });
  }
  test('overlap and loopback', () => {
    assert.equal(addressesOverlap('::', '10.0.0.1'), true);
    assert.equal(addressesOverlap('127.0.0.1', '127.0.0.2'), false);
    assert.equal(isLoopbackAddress('::ffff:127.0.0.9'), true);
    assert.equal(isLoopbackAddress('0:0:0:0:0:0:0:1'), true);
    assert.equal(isLoopbackAddress('::2'), false);
  });
});

describe('parseEndpoint: what tor takes as ADDRESS:PORT', () => {
  const CASES: readonly [string, boolean][] = [
    ['192.0.2.1:3128', true],
    ['[2001:db8::1]:3128', true],
    ['[::1]:65535', true],
    ['[1.2.3.4]:3128', false],
    ['2001:db8::1:3128', false],
    ['[::1]:99999', false],
    ['[::1]:0', false],
    ['192.0.2.1:03128', false],
    ['192.0.2.1:+80', false],
    ['999.0.2.1:80', false],
    ['[fe80::1%eth0]:80', false],
    ['proxy.corp:3128', false],
  ];
  for (const [text, ok] of CASES) {
    test(text, () => {
      assert.equal(parseEndpoint(text) !== undefined, ok);
    });
  }
});

describe('quoteText: user text in a message', () => {
  const CASES: readonly [string, string][] = [
    ['plain', '"plain"'],
    ['a\nb', '"a\\nb"'],
    ['\u001b[31m', '"\\u{1B}[31m"'],
    ['x\u202Ey\u2066', '"x\\u{202E}y\\u{2066}"'],
    ['\u0085', '"\\u{85}"'],
    ['say "hi" \\', '"say \\"hi\\" \\\\"'],
    ['k'.repeat(81), `"${'k'.repeat(80)}…" (81 characters)`],
  ];
  for (const [text, shown] of CASES) {
    test(JSON.stringify(text).slice(0, 30), () => {
      assert.equal(quoteText(text), shown);
    });
  }
});
