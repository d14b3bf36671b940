import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { inspect } from 'node:util';
import {
  everything,
  gateway,
  issuesOf,
  load,
  POOLS,
  testBadCases,
  TOKEN,
  upstreamsOnly,
  type BadCase,
} from './gateway-section-fixture.js';

/** fleet.yaml `gateway:` (listen, token, corporate, credentials, defaults); route names: gateway-routes.test.ts. */
const SECRET = 'alice:Pw 9sec"ret\\x';

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

describe('a bad gateway section is rejected with a located, readable error', () => {
  testBadCases(BAD);
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
    const { fleet } = load(
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
      { T: TOKEN, A: 'bob:hunter22', C: 'corp:Secr3tPass' },
    );
    assert.equal(fleet.gateway?.token?.reveal(), TOKEN);
    assert.equal(fleet.gateway.upstreams[0]?.auth?.reveal(), 'bob:hunter22');
    assert.equal(fleet.gateway.corporate?.auth?.reveal(), 'corp:Secr3tPass');
    for (const shown of [JSON.stringify(fleet), inspect(fleet, { depth: 10 })]) {
      for (const secret of [TOKEN, 'hunter22', 'Secr3tPass']) assert.ok(!shown.includes(secret), shown);
    }
  });
});

describe('a good gateway section loads with its defaults applied', () => {
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
});

describe('warnings', () => {
  test('a corporate proxy without upstreams', () => {
    const { warnings } = load(gateway('corporate:', '  address: 192.0.2.10:3128'));
    assert.deepEqual([warnings[0]?.path, warnings[0]?.line, warnings[0]?.column], ['gateway.corporate', 16, 5]);
    assert.match(warnings[0]?.message ?? '', /no effect without upstreams/);
  });
});
