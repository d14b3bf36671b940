import assert from 'node:assert/strict';
import { test } from 'node:test';
import { endToEndHeaders, hasHeader } from './hop-headers.js';

const CASES: readonly [string, string[], string[]][] = [
  [
    'end-to-end headers kept, case and order too',
    ['Host', 'a', 'X-One', '1', 'x-one', '2'],
    ['Host', 'a', 'X-One', '1', 'x-one', '2'],
  ],
  [
    'hop-by-hop and proxy headers dropped',
    [
      'Connection',
      'keep-alive',
      'Keep-Alive',
      '5',
      'Proxy-Authorization',
      'Basic eA==',
      'TE',
      'trailers',
      'Accept',
      '*/*',
    ],
    ['Accept', '*/*'],
  ],
  [
    'headers the Connection header names dropped',
    ['Connection', 'close, X-Secret', 'x-secret', '1', 'X-Other', '2'],
    ['X-Other', '2'],
  ],
  [
    'Transfer-Encoding, Upgrade, Expect dropped',
    ['Transfer-Encoding', 'chunked', 'Upgrade', 'h2c', 'Expect', '100-continue'],
    [],
  ],
  ['an odd trailing name ignored', ['X-A', '1', 'X-B'], ['X-A', '1']],
];

for (const [name, input, expected] of CASES) {
  test(`endToEndHeaders: ${name}`, () => {
    assert.deepEqual(endToEndHeaders(input), expected);
  });
}

test('hasHeader is case-insensitive and looks at names only', () => {
  assert.equal(hasHeader(['HOST', 'x'], 'host'), true);
  assert.equal(hasHeader(['X-A', 'host'], 'host'), false);
});
