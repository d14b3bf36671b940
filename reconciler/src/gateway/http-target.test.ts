import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseAbsoluteTarget, parseConnectTarget } from './http-target.js';

const ABSOLUTE: readonly [string, string | null, number | null, string | null][] = [
  ['http://127.0.0.1:8080/a?b=1', '127.0.0.1', 8080, '/a?b=1'],
  ['http://example.com/', 'example.com', 80, '/'],
  ['http://user:pw@example.com/x', 'example.com', 80, '/x'],
  ['http://[::1]:81/', '::1', 81, '/'],
  ['https://example.com/', null, null, null],
  ['ftp://example.com/', null, null, null],
  ['/not-absolute', null, null, null],
  ['http://example.com:0/', null, null, null],
  [`http://${'a'.repeat(300)}.example/`, null, null, null],
];
for (const [uri, host, port, origin] of ABSOLUTE) {
  test(`absolute target ${uri}`, () => {
    const parsed = parseAbsoluteTarget(uri);
    if (host === null) {
      assert.equal(parsed.ok, false);
      return;
    }
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.target, { host, port });
    assert.equal(parsed.origin, origin);
    assert.doesNotMatch(parsed.absolute, /user|pw/, 'no user information in the forwarded absolute form');
  });
}

const CONNECT: readonly [string, string | null, number | null][] = [
  ['127.0.0.1:443', '127.0.0.1', 443],
  ['example.com:8443', 'example.com', 8443],
  ['[2001:db8::1]:443', '2001:db8::1', 443],
  ['example.com', null, null],
  ['example.com:0', null, null],
  ['example.com:70000', null, null],
  ['user@example.com:443', null, null],
  ['::1:443', null, null],
  [`${'a'.repeat(255)}:443`, 'a'.repeat(255), 443],
  [`${'a'.repeat(300)}.example:443`, null, null],
  ['a%0d%0ax.example:443', null, null],
];
for (const [authority, host, port] of CONNECT) {
  test(`CONNECT target ${authority}`, () => {
    const parsed = parseConnectTarget(authority);
    if (host === null) assert.equal(parsed.ok, false);
    else assert.deepEqual(parsed.ok && parsed.target, { host, port });
  });
}
