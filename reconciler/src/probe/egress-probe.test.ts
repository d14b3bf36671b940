import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseEgressAddress } from './egress-probe.js';
import { dechunk } from './socks-fetch.js';

describe('parseEgressAddress', () => {
  const CASES: readonly [string, string | undefined][] = [
    ['{"IsTor":true,"IP":"185.220.101.4"}', '185.220.101.4'],
    ['{"ip": "2001:db8::7"}', '2001:db8::7'],
    ['203.0.113.9\n', '203.0.113.9'],
    ['{"IP": "not an address"}', undefined],
    ['<html>captive portal</html>', undefined],
    ['', undefined],
  ];
  for (const [body, expected] of CASES) {
    test(JSON.stringify(body), () => {
      assert.equal(parseEgressAddress(body), expected);
    });
  }
});

describe('dechunk', () => {
  test('joins the chunks of an HTTP/1.1 chunked body', () => {
    assert.equal(dechunk('13\r\n{"IP":"127.0.0.11"}\r\n0\r\n\r\n'), '{"IP":"127.0.0.11"}');
    assert.equal(dechunk('4\r\nab\r\n\r\n2\r\ncd\r\n0\r\n\r\n'), 'ab\r\ncd');
    assert.equal(dechunk(''), '');
  });
});
