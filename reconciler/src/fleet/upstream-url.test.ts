import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseUpstreamUrl } from './upstream-url.js';

describe('parseUpstreamUrl: accepted', () => {
  const GOOD: readonly [string, 'http' | 'socks5', string, number][] = [
    ['http://203.0.113.7:80', 'http', '203.0.113.7', 80],
    ['http://203.0.113.7:80/', 'http', '203.0.113.7', 80],
    ['HTTP://203.0.113.7:8080', 'http', '203.0.113.7', 8080],
    ['socks5://127.0.0.1:1080', 'socks5', '127.0.0.1', 1080],
    ['socks5h://127.0.0.1:1080', 'socks5', '127.0.0.1', 1080],
    ['socks5://[::1]:1080', 'socks5', '::1', 1080],
    ['http://[2001:DB8::1]:3128', 'http', '2001:db8::1', 3128],
    ['http://[::ffff:192.0.2.1]:3128', 'http', '::ffff:192.0.2.1', 3128],
    ['http://proxy.example.net:3128', 'http', 'proxy.example.net', 3128],
    ['http://Proxy.Example.NET.:3128', 'http', 'proxy.example.net', 3128],
    ['http://localhost:1', 'http', 'localhost', 1],
    ['http://a-b.c9:65535', 'http', 'a-b.c9', 65535],
  ];
  for (const [text, protocol, host, port] of GOOD) {
    test(text, () => {
      assert.deepEqual(parseUpstreamUrl(text), { ok: true, protocol, host, port });
    });
  }
});

describe('parseUpstreamUrl: refused, with the reason', () => {
  const BAD: readonly [string, RegExp][] = [
    ['', /must start with a scheme/],
    ['203.0.113.7:80', /must start with a scheme/],
    ['//203.0.113.7:80', /must start with a scheme/],
    [
      'https://203.0.113.7:443',
      /scheme "https:\/\/" is not supported; write http:\/\/HOST:PORT or socks5:\/\/HOST:PORT/,
    ],
    ['socks4://203.0.113.7:1080', /"socks4:\/\/" is not supported/],
    ['socks4a://203.0.113.7:1080', /"socks4a:\/\/" is not supported/],
    ['ftp://203.0.113.7:21', /not supported/],
    ['http://user:pw@203.0.113.7:80', /must not hold user information: put credentials in auth/],
    ['http://@203.0.113.7:80', /user information/],
    ['http://203.0.113.7:80/path', /no path, query or fragment/],
    ['http://203.0.113.7:80//', /no path/],
    ['http://203.0.113.7:80?q', /no path/],
    ['http://203.0.113.7:80#f', /no path/],
    ['http://203.0.113.7', /needs a host and a port/],
    ['http://203.0.113.7:', /port must be a number from 1 to 65535/],
    ['http://203.0.113.7:0', /port must be/],
    ['http://203.0.113.7:080', /no leading zero/],
    ['http://203.0.113.7:65536', /port must be/],
    ['http://203.0.113.7:+80', /port must be/],
    ['http://203.0.113.7:80:81', /needs a host and a port/],
    ['http://::1:80', /needs a host and a port/],
    ['http://:80', /the host must be/],
    ['http://[]:80', /the host must be/],
    ['http://[203.0.113.7]:80', /the host must be/],
    ['http://[fe80::1%25eth0]:80', /the host must be/],
    ['http://[fe80::1%eth0]:80', /the host must be/],
    ['http://bad_host:80', /the host must be/],
    ['http://-bad.example:80', /the host must be/],
    ['http://a..b:80', /the host must be/],
    ['http://1.2.3:80', /the host must be/],
    ['http://0x7f.1:80', /the host must be/],
    ['http://0x7f:80', /the host must be/],
    ['http://256.1.1.1:80', /the host must be/],
    ['http://exa mple:80', /the host must be/],
    ['http://ex\u00e4mple.de:80', /the host must be/],
    [`http://${'a'.repeat(64)}.example:80`, /the host must be/],
  ];
  for (const [text, says] of BAD) {
    test(JSON.stringify(text), () => {
      const parsed = parseUpstreamUrl(text);
      assert.ok(!parsed.ok, `accepted ${text}`);
      assert.match(parsed.problem, says);
    });
  }
  test('no problem quotes the url', () => {
    for (const [text] of BAD) {
      const parsed = parseUpstreamUrl(text);
      if (!parsed.ok && text.length > 8) assert.ok(!parsed.problem.includes(text.slice(7)), parsed.problem);
    }
  });
});
