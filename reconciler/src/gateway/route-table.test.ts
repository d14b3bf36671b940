import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { GatewaySpec } from '../fleet/fleet-types.js';
import { Secret } from '../fleet/secret.js';
import { testFleet, testPool } from '../testing/fleet-fixtures.js';
import { buildRouteTable, gatewayListen, type RouteTableOptions } from './route-table.js';
import type { RouteTable } from './route-types.js';

const POOLS = [
  testPool('us', { count: 2, basePort: 20000 }),
  testPool('eu', { geo: ['DE', 'NL'], count: 2, basePort: 20100, bind: '0.0.0.0' }),
  testPool('world', { geo: 'NON_US', mode: 'flexible', count: 2, basePort: 20200, bind: '::' }),
  testPool('de', { geo: ['DE'], mode: 'rotating', count: 1, basePort: 20300, bind: '127.0.0.2' }),
  testPool('empty', { count: 0, basePort: 20400 }),
];
const TOKEN = new Secret('tok-0123456789abcdef');
const SOX_AUTH = new Secret('bob:hunter22');
const CORP_AUTH = new Secret('corp:pw');
const GATEWAY: GatewaySpec = {
  listen: { host: '::1', port: 18888 },
  token: TOKEN,
  default: 'us',
  upstreams: [
    { name: 'prov', protocol: 'http', host: '203.0.113.7', port: 80, auth: null },
    { name: 'sox', protocol: 'socks5', host: 'socks.example', port: 1080, auth: SOX_AUTH },
  ],
  corporate: { host: '192.0.2.10', port: 3128, auth: CORP_AUTH },
};

const table = (options: Partial<RouteTableOptions> = {}, gateway: GatewaySpec | null = GATEWAY): RouteTable =>
  buildRouteTable(testFleet(POOLS, {}, gateway), { corporate: true, ...options });
const ids = (t: RouteTable, name: string): string[] | undefined => t.lookup(name)?.members.map((m) => m.id);

describe('buildRouteTable: pools, proxies and upstreams', () => {
  const t = table();
  test('a pool holds its proxies as tor members at bind:basePort+i', () => {
    assert.deepEqual(t.lookup('us'), {
      name: 'us',
      kind: 'pool',
      members: [
        { kind: 'tor', id: 'us-0', pool: 'us', host: '127.0.0.1', port: 20000 },
        { kind: 'tor', id: 'us-1', pool: 'us', host: '127.0.0.1', port: 20001 },
      ],
    });
  });
  test('a wildcard bind is dialled on loopback of its family; another address as it is', () => {
    assert.deepEqual(
      ['eu-1', 'world-0', 'de-0'].map((name) => t.lookup(name)?.members.map((m) => [m.host, m.port])),
      [[['127.0.0.1', 20101]], [['::1', 20200]], [['127.0.0.2', 20300]]],
    );
  });
  test('a proxy on another swarm node (wildcard or loopback bind) is dialled at its node address; the rest as before', () => {
    const remote = table({ nodeAddress: (name) => ({ 'eu-1': '10.0.0.6', 'de-0': '10.0.0.7' })[name] ?? null });
    assert.deepEqual(
      ['eu-0', 'eu-1', 'de-0'].map((name) => remote.lookup(name)?.members.map((m) => [m.host, m.port])),
      [[['127.0.0.1', 20100]], [['10.0.0.6', 20101]], [['10.0.0.7', 20300]]],
    );
    assert.deepEqual(
      remote.lookup('eu')?.members.map((m) => m.kind === 'tor' && m.host),
      ['127.0.0.1', '10.0.0.6'],
      'the pool route holds the same members',
    );
  });
  test('a proxy POOL-i is a route of its one member', () => {
    assert.deepEqual(t.lookup('world-1'), {
      name: 'world-1',
      kind: 'proxy',
      members: [{ kind: 'tor', id: 'world-1', pool: 'world', host: '::1', port: 20201 }],
    });
  });
  test('a pool scaled to zero is a route without members; its proxies are no routes', () => {
    assert.deepEqual(t.lookup('empty'), { name: 'empty', kind: 'pool', members: [] });
    assert.equal(t.lookup('empty-0'), undefined);
    assert.equal(t.lookup('us-2'), undefined);
  });
  test('an upstream is a route of one upstream member, credentials as Secrets', () => {
    assert.deepEqual(t.lookup('sox'), {
      name: 'sox',
      kind: 'upstream',
      members: [{ kind: 'upstream', id: 'sox', protocol: 'socks5', host: 'socks.example', port: 1080, auth: SOX_AUTH }],
    });
    assert.equal(t.lookup('prov')?.members[0]?.kind, 'upstream');
  });
  test('lookup is exact: lower case, no session, nothing else', () => {
    for (const name of ['US', 'us-session-1', 'nothing', 'geo-zz', 'geo-DE', 'us-01', '']) {
      assert.equal(t.lookup(name), undefined, name);
    }
  });
  test('names: pools each followed by its proxies, upstreams, geo-us, geo-non_us, the countries pools name', () => {
    assert.deepEqual(t.names(), [
      'us',
      'us-0',
      'us-1',
      'eu',
      'eu-0',
      'eu-1',
      'world',
      'world-0',
      'world-1',
      'de',
      'de-0',
      'empty',
      'prov',
      'sox',
      'geo-us',
      'geo-non_us',
      'geo-de',
      'geo-nl',
    ]);
  });
  test('every name listed resolves to a route of that name', () => {
    for (const name of t.names()) assert.equal(t.lookup(name)?.name, name);
  });
});

describe('buildRouteTable: geo routes hold only proxies that stay within the geography', () => {
  test('without exit knowledge: by pool geo alone', () => {
    const t = table();
    assert.deepEqual(ids(t, 'geo-us'), ['us-0', 'us-1']);
    assert.deepEqual(ids(t, 'geo-non_us'), ['eu-0', 'eu-1', 'world-0', 'world-1', 'de-0']);
    assert.deepEqual(ids(t, 'geo-de'), ['de-0'], 'a [DE, NL] or NON_US proxy may exit in NL or elsewhere');
    assert.deepEqual(ids(t, 'geo-nl'), []);
    assert.deepEqual(t.lookup('geo-jp'), { name: 'geo-jp', kind: 'geo', members: [] });
  });
  test('with the countries of pinned exits', () => {
    const exits: Record<string, readonly string[]> = {
      'eu-0': ['NL'],
      'eu-1': ['DE'],
      'world-0': ['DE'],
      'world-1': ['FR', 'DE'],
      'us-0': ['US'],
    };
    const t = table({ exitCountries: (name) => exits[name] ?? [] });
    assert.deepEqual(ids(t, 'geo-de'), ['eu-1', 'world-0', 'de-0']);
    assert.deepEqual(ids(t, 'geo-nl'), ['eu-0']);
    assert.deepEqual(ids(t, 'geo-fr'), []);
    assert.deepEqual(ids(t, 'geo-non_us'), ['eu-0', 'eu-1', 'world-0', 'world-1', 'de-0']);
    assert.deepEqual(t.names().slice(-3), ['geo-de', 'geo-fr', 'geo-nl']);
  });
  test('an exit of a code that is no country puts its proxy in no geo route', () => {
    const t = table({ exitCountries: (name) => (name === 'world-0' ? ['ZZ'] : []) });
    assert.deepEqual(ids(t, 'geo-non_us'), ['eu-0', 'eu-1', 'world-1', 'de-0']);
    assert.ok(!t.names().includes('geo-zz'));
  });
});

describe('buildRouteTable: default, token, corporate', () => {
  test('from the gateway section', () => {
    const t = table();
    assert.equal(t.defaultRoute, 'us');
    assert.equal(t.token, TOKEN);
    assert.deepEqual(t.corporate, { host: '192.0.2.10', port: 3128, auth: CORP_AUTH });
  });
  test('--no-corporate drops the corporate hop', () => {
    assert.equal(table({ corporate: false }).corporate, null);
  });
  test('a fleet without a gateway section: no default, token, corporate or upstreams; pools and geo routes still', () => {
    const t = table({}, null);
    assert.deepEqual([t.defaultRoute, t.token, t.corporate, t.lookup('prov')], [null, null, null, undefined]);
    assert.deepEqual(ids(t, 'us'), ['us-0', 'us-1']);
    assert.ok(!t.names().includes('prov'));
  });
  test('gatewayListen: the section’s, else 127.0.0.1:8888', () => {
    assert.deepEqual(gatewayListen(testFleet(POOLS, {}, GATEWAY)), { host: '::1', port: 18888 });
    assert.deepEqual(gatewayListen(testFleet(POOLS)), { host: '127.0.0.1', port: 8888 });
  });
});

describe('buildRouteTable: hyphens in pool names', () => {
  test('pool eu-2 beside pool eu of 2 proxies: eu-2 the pool, eu-2-0 its proxy, eu-1 a proxy of eu', () => {
    const t = buildRouteTable(
      testFleet([testPool('eu', { count: 2 }), testPool('eu-2', { count: 1, basePort: 20100 })]),
      { corporate: true },
    );
    assert.equal(t.lookup('eu-2')?.kind, 'pool');
    assert.deepEqual(ids(t, 'eu-2'), ['eu-2-0']);
    assert.deepEqual([t.lookup('eu-2-0')?.kind, t.lookup('eu-1')?.kind], ['proxy', 'proxy']);
  });
  test('a fleet without a gateway section where names clash (the loader warns): the pool takes the name', () => {
    const t = buildRouteTable(
      testFleet([
        testPool('eu', { count: 3 }),
        testPool('eu-2', { count: 1, basePort: 20100 }),
        testPool('geo-de', { geo: ['NL'], count: 1, basePort: 20200 }),
      ]),
      { corporate: true },
    );
    assert.deepEqual([t.lookup('eu-2')?.kind, t.lookup('geo-de')?.kind], ['pool', 'pool']);
    assert.deepEqual(ids(t, 'eu-2'), ['eu-2-0']);
    assert.deepEqual(
      t.names().filter((n) => n === 'eu-2'),
      ['eu-2'],
    );
  });
});
