import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pacFile } from './gateway-pages.js';

const PAC: readonly [string, string][] = [
  ['127.0.0.1', 'PROXY 127.0.0.1:8888'],
  ['::1', 'PROXY [::1]:8888'],
  ['::ffff:127.0.0.1', 'PROXY 127.0.0.1:8888'],
];
for (const [host, expected] of PAC) {
  test(`the PAC for a client that reached ${host}: ${expected}`, () => {
    const pac = pacFile(host, 8888, ['us-strict']);
    assert.match(pac, new RegExp(`return "${expected.replace(/[[\]]/g, '\\$&')}";`));
    assert.match(pac, /Routes \(proxy username\): us-strict/);
    assert.doesNotMatch(pac, /DIRECT/, 'no fallback that would leave without the gateway');
  });
}
