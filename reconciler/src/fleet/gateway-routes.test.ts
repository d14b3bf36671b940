import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { gateway, load, POOLS, testBadCases, upstreamsOnly, type BadCase } from './gateway-section-fixture.js';

/** Gateway route names in fleet.yaml: pool and upstream names that must mean one thing, and `gateway.default`. */
const BAD: readonly BadCase[] = [
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
];

describe('route names and the default are checked with a located, readable error', () => {
  testBadCases(BAD);
});

describe('routes that load', () => {
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
