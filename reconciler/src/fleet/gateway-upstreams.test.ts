import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { gateway, load, testBadCases, TOKEN, upstream, type BadCase } from './gateway-section-fixture.js';

/** fleet.yaml `gateway.upstreams` as the loader sees it; the URL grammar in full: upstream-url.test.ts. */
const BAD: readonly BadCase[] = [
  {
    name: 'upstream without url',
    text: gateway('upstreams:', '  - name: prov'),
    path: 'gateway.upstreams[0]',
    at: [16, 7],
    says: 'missing required key "url"',
  },
  {
    name: 'upstream with an unknown key',
    text: upstream('http://203.0.113.7:80', 'user: bob'),
    path: 'gateway.upstreams[0].user',
    at: [18, 7],
    says: 'allowed keys: name, url, auth',
  },
  {
    name: 'upstream name in capitals',
    text: gateway('upstreams:', '  - name: Prov', '    url: http://203.0.113.7:80'),
    path: 'gateway.upstreams[0].name',
    at: [16, 13],
    says: 'is not an upstream name',
  },
  {
    name: 'https upstream',
    text: upstream('https://203.0.113.7:443'),
    path: 'gateway.upstreams[0].url',
    at: [17, 12],
    says: 'scheme "https://" is not supported; write http://HOST:PORT or socks5://HOST:PORT',
  },
  {
    name: 'url with user information',
    text: upstream('http://bob:hunter22@203.0.113.7:80'),
    path: 'gateway.upstreams[0].url',
    at: [17, 12],
    says: 'put credentials in auth: "${NAME}"',
    hides: ['hunter22', 'bob'],
  },
  {
    name: 'url with a path',
    text: upstream('http://203.0.113.7:80/proxy'),
    path: 'gateway.upstreams[0].url',
    at: [17, 12],
    says: 'no path, query or fragment',
  },
  {
    name: 'url without a port',
    text: upstream('http://203.0.113.7'),
    path: 'gateway.upstreams[0].url',
    at: [17, 12],
    says: 'needs a host and a port',
  },
  {
    name: 'upstream auth in the file',
    text: upstream('http://203.0.113.7:80', 'auth: "bob:hunter22"'),
    path: 'gateway.upstreams[0].auth',
    at: [18, 13],
    says: 'must not be committed to git',
    hides: ['hunter22'],
  },
  {
    name: 'upstream auth without a colon',
    text: upstream('http://203.0.113.7:80', 'auth: "${A}"'),
    env: { A: 'justapassword' },
    path: 'gateway.upstreams[0].auth',
    at: [18, 13],
    says: '[from ${A}] is not USER:PASSWORD',
    hides: ['justapassword'],
  },
  {
    name: 'upstream auth with a newline',
    text: upstream('http://203.0.113.7:80', 'auth: "${A}"'),
    env: { A: 'bob:pass\nword' },
    path: 'gateway.upstreams[0].auth',
    at: [18, 13],
    says: 'is not USER:PASSWORD',
    hides: ['pass', 'word'],
  },
  {
    name: 'upstream auth user longer than SOCKS5 allows',
    text: upstream('socks5://203.0.113.7:1080', 'auth: "${A}"'),
    env: { A: `${'u'.repeat(256)}:pw` },
    path: 'gateway.upstreams[0].auth',
    at: [18, 13],
    says: 'a USER of 1 to 255 characters',
    hides: ['uuuu'],
  },
];

describe('a bad upstream is rejected with a located, readable error', () => {
  testBadCases(BAD);
});

describe('upstreams that load', () => {
  test('the contract example, in full', () => {
    const { fleet, warnings } = load(
      gateway(
        'listen: 127.0.0.1:8888',
        'token: ${GATEWAY_TOKEN}',
        'default: us',
        'upstreams:',
        '  - name: provider',
        '    url: http://203.0.113.7:80',
        '    auth: ${PROVIDER_AUTH}',
        '  - name: socks',
        '    url: socks5h://[2001:DB8::7]:1080/',
        '  - name: named',
        '    url: SOCKS5://Proxy.Example.NET.:1080',
        'corporate:',
        '  address: 192.0.2.10:3128',
        '  auth: ${CORP_AUTH}',
      ),
      { GATEWAY_TOKEN: TOKEN, PROVIDER_AUTH: 'bob:', CORP_AUTH: 'corp:pw' },
    );
    assert.deepEqual(warnings, []);
    const spec = fleet.gateway;
    assert.ok(spec);
    assert.deepEqual(spec.listen, { host: '127.0.0.1', port: 8888 });
    assert.equal(spec.default, 'us');
    assert.deepEqual(
      spec.upstreams.map((u) => [u.name, u.protocol, u.host, u.port, u.auth?.reveal() ?? null]),
      [
        ['provider', 'http', '203.0.113.7', 80, 'bob:'],
        ['socks', 'socks5', '2001:db8::7', 1080, null],
        ['named', 'socks5', 'proxy.example.net', 1080, null],
      ],
    );
    assert.deepEqual(
      [spec.corporate?.host, spec.corporate?.port, spec.corporate?.auth?.reveal()],
      ['192.0.2.10', 3128, 'corp:pw'],
    );
  });
});
