import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { inspect } from 'node:util';
import { FleetValidationError, formatIssue, type FleetIssue } from './fleet-issue.js';
import { parseFleet, type LoadedFleet } from './load-fleet.js';

/**
 * Lines 1-13: two pools, `eu` ([DE, NL], 2 proxies from 19050) and `us` (US, 3 from 19100); line 14
 * `gateway:`; the gateway lines from line 15, each key at column 3 (a value at 3 + key length + 2).
 */
const POOLS = `apiVersion: torfleet/v1
kind: Fleet
pools:
  - name: eu
    geo: [DE, NL]
    mode: strict
    count: 2
    basePort: 19050
  - name: us
    geo: US
    mode: strict
    count: 3
    basePort: 19100
`;
const gateway = (...lines: string[]): string => `${POOLS}gateway:\n${lines.map((l) => `  ${l}\n`).join('')}`;
/** One upstream at line 16 (name value at 16:13), its url at 17:12 and any further key from 18:7. */
const upstream = (url: string, ...more: string[]): string =>
  gateway('upstreams:', '  - name: prov', `    url: ${url}`, ...more.map((l) => `    ${l}`));
/** pools: [] and a gateway section from line 5. */
const upstreamsOnly = (...lines: string[]): string =>
  `apiVersion: torfleet/v1\nkind: Fleet\npools: []\ngateway:\n${lines.map((l) => `  ${l}\n`).join('')}`;

const SECRET = 'alice:Pw 9sec"ret\\x';
const TOKEN = 'tok-0123456789abcdef';

interface BadCase {
  readonly name: string;
  readonly text: string;
  readonly env?: Record<string, string>;
  readonly path: string;
  readonly at: readonly [line: number, column: number];
  readonly says: string;
  /** Text that must show in no message (a literal credential). */
  readonly hides?: readonly string[];
}

const BAD: readonly BadCase[] = [
  {
    name: 'unknown key',
    text: gateway('listn: 127.0.0.1:8888'),
    path: 'gateway.listn',
    at: [15, 3],
    says: 'did you mean "listen"?',
  },
  {
    name: 'gateway as a list',
    text: `${POOLS}gateway: []\n`,
    path: 'gateway',
    at: [14, 10],
    says: 'expected a mapping or null, got a list',
  },
  {
    name: 'listen as a host name',
    text: gateway('listen: localhost:8888'),
    path: 'gateway.listen',
    at: [15, 11],
    says: 'is not an IP address and port',
  },
  {
    name: 'listen without a port',
    text: gateway('listen: 127.0.0.1'),
    path: 'gateway.listen',
    at: [15, 11],
    says: 'write 127.0.0.1:8888 or [::1]:8888',
  },
  {
    name: 'listen on port 0',
    text: gateway('listen: 127.0.0.1:0'),
    path: 'gateway.listen',
    at: [15, 11],
    says: 'is not an IP address and port (1-65535)',
  },
  {
    name: 'listen beyond loopback without a token',
    text: gateway('listen: 0.0.0.0:8888'),
    path: 'gateway.listen',
    at: [15, 11],
    says: 'beyond loopback, so anyone who reaches it could use every route: set token: "${GATEWAY_TOKEN}"',
  },
  {
    name: 'listen on IPv6 any without a token',
    text: gateway('listen: "[::]:8888"'),
    path: 'gateway.listen',
    at: [15, 11],
    says: 'or listen on 127.0.0.1',
  },
  {
    name: 'listen on a public address without a token',
    text: gateway('listen: 192.0.2.4:8888'),
    path: 'gateway.listen',
    at: [15, 11],
    says: 'beyond loopback',
  },
  {
    name: 'listen on a proxy port',
    text: gateway('listen: 127.0.0.1:19101'),
    path: 'gateway.listen',
    at: [15, 11],
    says: 'port 19101 is taken by proxy 1 of pool "us" (pools[1]); pick another port',
  },
  {
    name: 'token written in the file',
    text: gateway(`token: ${TOKEN}`),
    path: 'gateway.token',
    at: [15, 10],
    says: 'write the credential as a reference such as "${GATEWAY_TOKEN}"',
    hides: [TOKEN],
  },
  {
    name: 'token as a number in the file',
    text: gateway('token: 98765432109876543210'),
    path: 'gateway.token',
    at: [15, 10],
    says: 'must not be committed to git',
    hides: ['98765432109876543210', '9.8765'],
  },
  {
    name: 'token half a reference',
    text: gateway('token: "x${T}"'),
    env: { T: TOKEN },
    path: 'gateway.token',
    at: [15, 10],
    says: 'write the credential as a reference',
    hides: [TOKEN],
  },
  {
    name: 'token too short',
    text: gateway('token: "${T}"'),
    env: { T: 'short1' },
    path: 'gateway.token',
    at: [15, 10],
    says: '[from ${T}] is not a usable token: use 16 to 255',
    hides: ['short1'],
  },
  {
    name: 'token with a space',
    text: gateway('token: "${T}"'),
    env: { T: 'has a space in it, long' },
    path: 'gateway.token',
    at: [15, 10],
    says: 'is not a usable token',
    hides: ['has a space'],
  },
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
    name: 'socks4 upstream',
    text: upstream('socks4://203.0.113.7:1080'),
    path: 'gateway.upstreams[0].url',
    at: [17, 12],
    says: 'scheme "socks4://" is not supported',
  },
  {
    name: 'url without a scheme',
    text: upstream('203.0.113.7:80'),
    path: 'gateway.upstreams[0].url',
    at: [17, 12],
    says: 'must start with a scheme',
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
    name: 'url with a query',
    text: upstream('http://203.0.113.7:80?x=1'),
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
    name: 'url port above 65535',
    text: upstream('socks5://203.0.113.7:65536'),
    path: 'gateway.upstreams[0].url',
    at: [17, 12],
    says: 'from 1 to 65535',
  },
  {
    name: 'url with a bad host',
    text: upstream('http://bad_host:80'),
    path: 'gateway.upstreams[0].url',
    at: [17, 12],
    says: 'the host must be an IPv4 address',
  },
  {
    name: 'url with an IPv6 zone',
    text: upstream('"http://[fe80::1%eth0]:80"'),
    path: 'gateway.upstreams[0].url',
    at: [17, 12],
    says: 'the host must be',
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
  {
    name: 'upstream named like a pool',
    text: gateway('upstreams:', '  - name: eu', '    url: http://203.0.113.7:80'),
    path: 'gateway.upstreams[0].name',
    at: [16, 13],
    says: 'upstream name "eu" is already used by pools[0]',
  },
  {
    name: 'two upstreams of one name',
    text: gateway(
      'upstreams:',
      '  - name: p',
      '    url: http://203.0.113.7:80',
      '  - name: p',
      '    url: http://203.0.113.8:80',
    ),
    path: 'gateway.upstreams[1].name',
    at: [18, 13],
    says: 'already used by gateway.upstreams[0]',
  },
  {
    name: 'upstream named like a proxy',
    text: gateway('upstreams:', '  - name: us-7', '    url: http://203.0.113.7:80'),
    path: 'gateway.upstreams[0].name',
    at: [16, 13],
    says: 'it reads as proxy 7 of pool "us"',
  },
  {
    name: 'upstream named geo-',
    text: gateway('upstreams:', '  - name: geo-fast', '    url: http://203.0.113.7:80'),
    path: 'gateway.upstreams[0].name',
    at: [16, 13],
    says: "are the gateway's geo routes",
  },
  {
    name: 'upstream with -session- in its name',
    text: gateway('upstreams:', '  - name: a-session-b', '    url: http://203.0.113.7:80'),
    path: 'gateway.upstreams[0].name',
    at: [16, 13],
    says: 'reads as the session suffix',
  },
  {
    name: 'pool named geo- with a gateway section',
    text: POOLS.replace('name: eu', 'name: geo-de') + 'gateway: {}\n',
    path: 'pools[0].name',
    at: [4, 11],
    says: 'pool name "geo-de" is ambiguous as a gateway route',
  },
  {
    name: "pool named like another pool's proxy",
    text: POOLS.replace('name: eu', 'name: us-1') + 'gateway: {}\n',
    path: 'pools[0].name',
    at: [4, 11],
    says: 'it reads as proxy 1 of pool "us"',
  },
  {
    name: 'pool named like a proxy beyond the count',
    text: POOLS.replace('name: eu', 'name: us-9') + 'gateway: {}\n',
    path: 'pools[0].name',
    at: [4, 11],
    says: 'it reads as proxy 9 of pool "us"',
  },
  {
    name: 'default naming nothing',
    text: gateway('default: nothing'),
    path: 'gateway.default',
    at: [15, 12],
    says: '"nothing" names no route: write a pool or an upstream (eu, us), a proxy POOL-i',
  },
  {
    name: 'default naming a proxy beyond the count',
    text: gateway('default: eu-2'),
    path: 'gateway.default',
    at: [15, 12],
    says: 'names no proxy: pool eu has proxies eu-0 to eu-1',
  },
  {
    name: 'default naming an unknown country',
    text: gateway('default: geo-zz'),
    path: 'gateway.default',
    at: [15, 12],
    says: 'is not a geo route',
  },
  {
    name: 'default in capitals',
    text: gateway('default: geo-DE'),
    path: 'gateway.default',
    at: [15, 12],
    says: 'route names are lower case (write "geo-de")',
  },
  {
    name: 'default with a session',
    text: gateway('default: eu-session-1'),
    path: 'gateway.default',
    at: [15, 12],
    says: 'default names a route only',
  },
  {
    name: 'default naming a removed upstream',
    text: upstreamsOnly('default: prov'),
    path: 'gateway.default',
    at: [5, 12],
    says: 'names no route: write a pool or an upstream, a proxy',
  },
  {
    name: 'corporate as a host name',
    text: gateway('corporate:', '  address: proxy.corp:3128'),
    path: 'gateway.corporate.address',
    at: [16, 14],
    says: 'no host names: the gateway resolves none',
  },
  {
    name: 'corporate without address',
    text: gateway('corporate: {}'),
    path: 'gateway.corporate',
    at: [15, 14],
    says: 'missing required key "address"',
  },
  {
    name: 'corporate auth in the file',
    text: gateway('corporate:', '  address: 192.0.2.10:3128', '  auth: corp:Secr3tPass'),
    path: 'gateway.corporate.auth',
    at: [17, 11],
    says: 'reference such as',
    hides: ['Secr3tPass'],
  },
  {
    name: 'corporate auth malformed',
    text: gateway('corporate:', '  address: 192.0.2.10:3128', '  auth: "${C}"'),
    env: { C: ':nouser' },
    path: 'gateway.corporate.auth',
    at: [17, 11],
    says: '[from ${C}] is not USER:PASSWORD',
    hides: ['nouser'],
  },
];

function issuesOf(text: string, env: Record<string, string> = {}): FleetIssue[] {
  try {
    parseFleet('fleet.yaml', text, { env });
  } catch (error) {
    assert.ok(error instanceof FleetValidationError, `expected a FleetValidationError, got ${String(error)}`);
    return [...error.issues];
  }
  assert.fail('the fleet was accepted');
}

const everything = (issues: readonly FleetIssue[]): string => JSON.stringify(issues) + issues.map(formatIssue).join('');

describe('a bad gateway section is rejected with a located, readable error', () => {
  for (const bad of BAD) {
    test(bad.name, () => {
      const issues = issuesOf(bad.text, bad.env);
      const match = issues.find((issue) => issue.path === bad.path && issue.message.includes(bad.says));
      assert.ok(match, `no issue at ${bad.path} saying "${bad.says}"; got:\n${issues.map(formatIssue).join('\n')}`);
      assert.deepEqual([match.line, match.column], bad.at, formatIssue(match));
      const shown = everything(issues);
      for (const hidden of [...(bad.hides ?? []), ...Object.values(bad.env ?? {})]) {
        assert.ok(!shown.includes(hidden), `${hidden} shows in ${shown}`);
      }
    });
  }
});

describe('credentials never show, in any spelling', () => {
  test('a malformed secret in every credential is reported by location and variable only', () => {
    const text = gateway(
      'listen: 0.0.0.0:8888',
      'token: "${S}"',
      'upstreams:',
      '  - name: prov',
      '    url: http://203.0.113.7:80',
      '    auth: "${S}x"',
      'corporate:',
      '  address: 192.0.2.10:3128',
      '  auth: "${S}\\n"',
    );
    const issues = issuesOf(text, { S: SECRET });
    assert.deepEqual(
      issues.map((i) => i.path),
      ['gateway.token', 'gateway.upstreams[0].auth', 'gateway.corporate.auth'],
    );
    const shown = everything(issues);
    for (const piece of ['Pw 9sec', 'ret\\x', 'ret\\\\x', 'alice'])
      assert.ok(!shown.includes(piece), `${piece} in ${shown}`);
  });
  test('valid secrets are held in Secrets that print as [redacted]', () => {
    const { fleet } = parseFleet(
      'fleet.yaml',
      upstreamsOnly(
        'token: "${T}"',
        'upstreams:',
        '  - name: p',
        '    url: http://203.0.113.7:80',
        '    auth: "${A}"',
        'corporate:',
        '  address: 192.0.2.10:3128',
        '  auth: "${C}"',
      ),
      {
        env: { T: TOKEN, A: 'bob:hunter22', C: 'corp:Secr3tPass' },
      },
    );
    assert.equal(fleet.gateway?.token?.reveal(), TOKEN);
    assert.equal(fleet.gateway.upstreams[0]?.auth?.reveal(), 'bob:hunter22');
    assert.equal(fleet.gateway.corporate?.auth?.reveal(), 'corp:Secr3tPass');
    for (const shown of [JSON.stringify(fleet), inspect(fleet, { depth: 10 })]) {
      for (const secret of [TOKEN, 'hunter22', 'Secr3tPass']) assert.ok(!shown.includes(secret), shown);
    }
  });
});

function load(text: string, env: Record<string, string> = {}): LoadedFleet {
  return parseFleet('fleet.yaml', text, { env });
}

describe('a good gateway section loads with its defaults applied', () => {
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
  test('an empty section: 127.0.0.1:8888, no token, no default, no upstreams, no corporate', () => {
    assert.deepEqual(JSON.parse(JSON.stringify(load(`${POOLS}gateway: {}\n`).fleet.gateway)), {
      listen: { host: '127.0.0.1', port: 8888 },
      token: null,
      default: null,
      upstreams: [],
      corporate: null,
    });
  });
  test('no section, or gateway: null, is a fleet without a gateway', () => {
    assert.equal(load(POOLS).fleet.gateway, null);
    assert.equal(load(`${POOLS}gateway: null\n`).fleet.gateway, null);
  });
  test('pools: [] with upstreams only: the gateway alone', () => {
    const { fleet } = load(
      upstreamsOnly('default: prov', 'upstreams:', '  - name: prov', '    url: http://203.0.113.7:80'),
    );
    assert.deepEqual(fleet.pools, []);
    assert.equal(fleet.gateway?.upstreams[0]?.name, 'prov');
  });
  test('listen beyond loopback with a token, on IPv6', () => {
    const { fleet } = load(gateway('listen: "[::]:8888"', 'token: "${T}"'), { T: TOKEN });
    assert.deepEqual(fleet.gateway?.listen, { host: '::', port: 8888 });
  });
  test('the same port as a proxy on another address', () => {
    assert.equal(load(gateway('listen: 127.0.0.2:19050')).fleet.gateway?.listen.port, 19050);
  });
  for (const route of ['eu', 'us-2', 'geo-us', 'geo-non_us', 'geo-de', 'geo-nl']) {
    test(`default: ${route}`, () => {
      const { fleet, warnings } = load(gateway(`default: ${route}`));
      assert.equal(fleet.gateway?.default, route);
      assert.deepEqual(warnings, []);
    });
  }
});

describe('warnings', () => {
  test('a default geo no pool may exit in', () => {
    const { warnings } = load(gateway('default: geo-jp'));
    assert.equal(warnings[0]?.path, 'gateway.default');
    assert.match(warnings[0].message, /no pool of the fleet may exit in the geography of "geo-jp"/);
  });
  test('a corporate proxy without upstreams', () => {
    const { warnings } = load(gateway('corporate:', '  address: 192.0.2.10:3128'));
    assert.deepEqual([warnings[0]?.path, warnings[0]?.line, warnings[0]?.column], ['gateway.corporate', 16, 5]);
    assert.match(warnings[0]?.message ?? '', /no effect without upstreams/);
  });
  test('without a gateway section, a pool named like a proxy of today is only a warning', () => {
    const { warnings } = load(POOLS.replace('name: eu', 'name: us-1'));
    assert.deepEqual([warnings[0]?.path, warnings[0]?.line, warnings[0]?.column], ['pools[0].name', 4, 11]);
    assert.match(warnings[0]?.message ?? '', /torfleet gateway takes it for the pool; rename the pool/);
  });
  test('without a gateway section, a pool named like a proxy beyond the count is fine', () => {
    assert.deepEqual(load(POOLS.replace('name: eu', 'name: us-3')).warnings, []);
  });
  test('without a gateway section, a pool named geo- warns', () => {
    assert.match(load(POOLS.replace('name: eu', 'name: geo-de')).warnings[0]?.message ?? '', /geo routes/);
  });
});
