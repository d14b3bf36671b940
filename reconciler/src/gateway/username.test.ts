import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { GatewaySpec } from '../fleet/fleet-types.js';
import { Secret } from '../fleet/secret.js';
import { testFleet, testPool } from '../testing/fleet-fixtures.js';
import { buildRouteTable } from './route-table.js';
import type { RouteTable } from './route-types.js';
import { MAX_USERNAME_LENGTH, parseUsername, resolveRoute, type UsernameProblem } from './username.js';

describe('parseUsername: ROUTE or ROUTE-session-ID', () => {
  const GOOD: readonly [string | null | undefined, string | null, string | null][] = [
    [undefined, null, null],
    [null, null, null],
    ['', null, null],
    ['us-strict', 'us-strict', null],
    ['us-strict-2', 'us-strict-2', null],
    ['US-Strict', 'us-strict', null],
    ['geo-DE', 'geo-de', null],
    ['geo-non_us', 'geo-non_us', null],
    ['eu-session-abc123', 'eu', 'abc123'],
    ['eu-session-ABCdef', 'eu', 'ABCdef'],
    ['EU-SESSION-X', 'eu', 'X'],
    ['us-strict-2-session-7', 'us-strict-2', '7'],
    ['a-session-b-session-c', 'a-session-b', 'c'],
    ['eu-session', 'eu-session', null],
    ['-session-abc', '-session-abc', null],
    [`eu-session-${'a'.repeat(32)}`, 'eu', 'a'.repeat(32)],
    ['a'.repeat(MAX_USERNAME_LENGTH), 'a'.repeat(MAX_USERNAME_LENGTH), null],
  ];
  for (const [username, route, session] of GOOD) {
    test(username === undefined ? 'undefined' : JSON.stringify(username), () => {
      assert.deepEqual(parseUsername(username), { ok: true, route, session });
    });
  }
  const BAD: readonly [string, UsernameProblem][] = [
    ['a'.repeat(MAX_USERNAME_LENGTH + 1), 'too-long'],
    ['x'.repeat(100_000), 'too-long'],
    ['eu\n', 'control-character'],
    ['eu\r\nX-Injected: 1', 'control-character'],
    ['eu\x00', 'control-character'],
    ['eu\x7f', 'control-character'],
    ['eu-session-', 'bad-session'],
    ['eu-session-a_b', 'bad-session'],
    ['eu-session-a-b', 'bad-session'],
    [`eu-session-${'a'.repeat(33)}`, 'bad-session'],
    ['eu-session-\u00e9', 'bad-session'],
    ['eu strict', 'not-a-route-name'],
    ['bob:hunter22', 'not-a-route-name'],
    ['caf\u00e9', 'not-a-route-name'],
    ['\u0130stanbul', 'not-a-route-name'],
    ['eu/1', 'not-a-route-name'],
    ['eu.1', 'not-a-route-name'],
  ];
  for (const [username, problem] of BAD) {
    test(`${JSON.stringify(username.slice(0, 40))}: ${problem}, without quoting it`, () => {
      const parsed = parseUsername(username);
      assert.ok(!parsed.ok);
      assert.equal(parsed.problem, problem);
      assert.ok(!parsed.message.includes(username.trim()), parsed.message);
    });
  }
});

const TOKEN = 'tok-0123456789abcdef';
const gateway = (over: Partial<GatewaySpec> = {}): GatewaySpec => ({
  listen: { host: '127.0.0.1', port: 8888 },
  token: new Secret(TOKEN),
  default: 'us-strict',
  upstreams: [{ name: 'prov', protocol: 'http', host: '203.0.113.7', port: 80, auth: null }],
  corporate: null,
  ...over,
});
const POOLS = [
  testPool('us-strict', { count: 3 }),
  testPool('eu', { geo: ['DE'], count: 2, basePort: 20100 }),
  testPool('eu-2', { geo: ['NL'], count: 1, basePort: 20200 }),
];
const tableOf = (spec: GatewaySpec | null): RouteTable =>
  buildRouteTable(testFleet(POOLS, {}, spec), { corporate: true });

describe('resolveRoute: the token first, then the route', () => {
  const t = tableOf(gateway());
  const CASES: readonly [string, string | undefined, string | undefined, string][] = [
    ['the right token and a pool', 'eu', TOKEN, 'ok eu pool -'],
    ['no user name: the default', '', TOKEN, 'ok us-strict pool -'],
    ['absent user name: the default', undefined, TOKEN, 'ok us-strict pool -'],
    ['a proxy of a hyphenated pool', 'us-strict-2', TOKEN, 'ok us-strict-2 proxy -'],
    ['a pool named like POOL-i beside pool eu of 2', 'eu-2', TOKEN, 'ok eu-2 pool -'],
    ['the proxy of that pool', 'eu-2-0', TOKEN, 'ok eu-2-0 proxy -'],
    ['a proxy of eu', 'eu-1', TOKEN, 'ok eu-1 proxy -'],
    ['an upstream with a session', 'prov-session-s1', TOKEN, 'ok prov upstream s1'],
    ['a geo route in capitals with a session', 'GEO-DE-session-Ab9', TOKEN, 'ok geo-de geo Ab9'],
    ['a proxy beyond the count', 'us-strict-3', TOKEN, 'unknown-route'],
    ['an unknown route', 'nothing', TOKEN, 'unknown-route'],
    ['a malformed user name', 'bob:hunter22', TOKEN, 'unknown-route'],
    ['an unknown country', 'geo-zz', TOKEN, 'unknown-route'],
    ['no password', 'eu', undefined, 'token'],
    ['an empty password', 'eu', '', 'token'],
    ['a wrong password', 'eu', 'wrong', 'token'],
    ['the token minus its last character', 'eu', TOKEN.slice(0, -1), 'token'],
    ['the token and one more', 'eu', `${TOKEN}x`, 'token'],
    ['the token in another case', 'eu', TOKEN.toUpperCase(), 'token'],
    ['a wrong password and an unknown route: token first', 'nothing', 'wrong', 'token'],
    ['user and password swapped', TOKEN, 'eu', 'token'],
  ];
  for (const [name, username, password, expected] of CASES) {
    test(name, () => {
      const outcome = resolveRoute(t, username, password);
      const shown = outcome.ok
        ? `ok ${outcome.route.name} ${outcome.route.kind} ${outcome.session ?? '-'}`
        : outcome.reason;
      assert.equal(shown, expected);
      if (!outcome.ok) {
        for (const secret of [TOKEN, password ?? TOKEN, 'hunter22']) {
          if (secret !== '') assert.ok(!outcome.message.includes(secret), outcome.message);
        }
      }
    });
  }
  test('messages say what to do', () => {
    const message = (u: string | undefined, p: string | undefined): string => {
      const outcome = resolveRoute(t, u, p);
      return outcome.ok ? 'ok' : outcome.message;
    };
    assert.match(message('eu', undefined), /asks for a token: send it as the proxy password/);
    assert.match(message('eu', 'wrong'), /is not the gateway token/);
    assert.match(message('nothing', TOKEN), /no route "nothing" in the fleet/);
    assert.match(message('eu-session-!', TOKEN), /session ID after "-session-" must be 1 to 32 letters or digits/);
  });
});

describe('resolveRoute: without a token, without a default', () => {
  test('no token: any password, or none, is accepted', () => {
    const t = tableOf(gateway({ token: null }));
    for (const password of [undefined, '', 'anything', TOKEN]) {
      assert.equal(resolveRoute(t, 'eu', password).ok, true, String(password));
    }
  });
  test('no default: a client must name a route', () => {
    const outcome = resolveRoute(tableOf(gateway({ default: null })), '', TOKEN);
    assert.ok(!outcome.ok);
    assert.equal(outcome.reason, 'no-default');
    assert.match(outcome.message, /name a route as the proxy user name/);
  });
  test('a fleet without a gateway section: no token, no default, pools by name', () => {
    const t = tableOf(null);
    assert.equal(resolveRoute(t, 'us-strict-1', undefined).ok, true);
    const outcome = resolveRoute(t, undefined, undefined);
    assert.ok(!outcome.ok && outcome.reason === 'no-default');
  });
  test('a default that names no route of the table', () => {
    const outcome = resolveRoute(tableOf(gateway({ default: 'gone' })), '', TOKEN);
    assert.ok(!outcome.ok);
    assert.deepEqual(
      [outcome.reason, outcome.message],
      ['no-default', 'the default route "gone" is not in the fleet: name a route as the proxy user name'],
    );
  });
});
