import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { authority, checkTargetHost, ipv6Bytes } from './target-address.js';

describe('ipv6Bytes', () => {
  const cases: { literal: string; hex: string }[] = [
    { literal: '::1', hex: '00000000000000000000000000000001' },
    { literal: '::', hex: '00000000000000000000000000000000' },
    { literal: '2001:db8::7', hex: '20010db8000000000000000000000007' },
    { literal: 'fe80::1:2%eth0', hex: 'fe800000000000000000000000010002' },
    { literal: '1:2:3:4:5:6:7:8', hex: '00010002000300040005000600070008' },
    { literal: '::ffff:192.0.2.1', hex: '00000000000000000000ffffc0000201' },
    { literal: '2001:db8::', hex: '20010db8000000000000000000000000' },
  ];
  for (const { literal, hex } of cases) {
    test(literal, () => {
      assert.equal(ipv6Bytes(literal).toString('hex'), hex);
    });
  }
});

describe('checkTargetHost and authority', () => {
  const cases: { host: string; kind: string | null; authority?: string }[] = [
    { host: '192.0.2.1', kind: 'ipv4', authority: '192.0.2.1:80' },
    { host: '2001:db8::1', kind: 'ipv6', authority: '[2001:db8::1]:80' },
    { host: 'example.com', kind: 'name', authority: 'example.com:80' },
    { host: 'x', kind: 'name', authority: 'x:80' },
    { host: 'under_score.test', kind: 'name' },
    { host: 'a'.repeat(255), kind: 'name' },
    { host: 'a'.repeat(256), kind: null },
    { host: 'evil.test\r\nX-Injected: 1', kind: null },
    { host: 'a b', kind: null },
    { host: 'host:80', kind: null },
    { host: '', kind: null },
    { host: '[::1]', kind: null },
  ];
  for (const { host, kind, authority: expected } of cases) {
    test(`${JSON.stringify(host.slice(0, 30))} → ${kind ?? 'refused'}`, () => {
      const target = { host, port: 80 };
      if (kind === null) {
        assert.throws(() => checkTargetHost(target), { name: 'HopError', reason: 'target-unreachable' });
        return;
      }
      assert.equal(checkTargetHost(target), kind);
      if (expected) assert.equal(authority(target), expected);
    });
  }
});
