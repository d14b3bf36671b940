import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chooseMethod, domainFromBytes, ipv4FromBytes, ipv6FromBytes, socksReply, targetOf } from './socks5-wire.js';

const IPV6: readonly [number[], string][] = [
  [[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], '::1'],
  [[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10], '2001:db8::10'],
  [[0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x12, 0x34, 0, 0, 0, 0, 0xab, 0xcd], 'fe80::1234:0:0:abcd'],
];
for (const [bytes, text] of IPV6) {
  test(`IPv6 ${text} from 16 bytes, shortest form, no brackets`, () => {
    assert.equal(ipv6FromBytes(Buffer.from(bytes)), text);
  });
}

test('IPv4 from 4 bytes', () => {
  assert.equal(ipv4FromBytes(Buffer.from([127, 0, 0, 1])), '127.0.0.1');
});

const DOMAINS: readonly [string, string | null][] = [
  ['example.com', 'example.com'],
  ['xn--bcher-kva.example', 'xn--bcher-kva.example'],
  ['bad name', null],
  ['nul\u0000', null],
  ['', null],
];
for (const [name, expected] of DOMAINS) {
  test(`domain ${JSON.stringify(name)} → ${String(expected)} (kept as a name, never resolved)`, () => {
    assert.equal(domainFromBytes(Buffer.from(name, 'latin1')), expected);
  });
}

const METHODS: readonly [number[], boolean, number][] = [
  [[0, 2], true, 2],
  [[0], true, 0],
  [[0], false, 0xff],
  [[2], false, 2],
  [[1, 3], true, 0xff],
  [[], true, 0xff],
];
for (const [offered, anonymousOk, chosen] of METHODS) {
  test(`methods [${offered.join(',')}] with anonymous ${anonymousOk ? 'allowed' : 'refused'} → ${chosen}`, () => {
    assert.equal(chooseMethod(Buffer.from(offered), anonymousOk), chosen);
  });
}

test('a reply: version 5, the code, an IPv4 0.0.0.0:0 bound address', () => {
  assert.deepEqual([...socksReply(4)], [5, 4, 0, 1, 0, 0, 0, 0, 0, 0]);
});

test('the port is big-endian', () => {
  assert.deepEqual(targetOf('h', Buffer.from([0x1f, 0x90])), { host: 'h', port: 8080 });
});
