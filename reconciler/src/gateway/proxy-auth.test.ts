import assert from 'node:assert/strict';
import { test } from 'node:test';
import { testRouteTable } from '../testing/gateway-fixtures.js';
import { authenticate, parseProxyAuthorization, proxyAuthBody, ROUTE_NAMES_SHOWN } from './proxy-auth.js';
import { Redactor } from './redact.js';

const b64 = (text: string): string => Buffer.from(text).toString('base64');
const HEADERS: readonly [string | undefined, string | null, string | null][] = [
  [undefined, null, null],
  [`Basic ${b64('us-strict:tok')}`, 'us-strict', 'tok'],
  [`basic  ${b64('us-strict:to:k')} `, 'us-strict', 'to:k'],
  [`Basic ${b64(':tok')}`, null, 'tok'],
  [`Basic ${b64('only-user')}`, 'only-user', null],
  [`Bearer ${b64('a:b')}`, null, null],
  ['Basic !!!', null, null],
];
for (const [header, username, password] of HEADERS) {
  test(`Proxy-Authorization ${JSON.stringify(header)} → ${String(username)} / ${String(password)}`, () => {
    assert.deepEqual(parseProxyAuthorization(header), { username, password });
  });
}

const table = testRouteTable(['us-strict', 'geo-us'], { defaultRoute: 'us-strict', token: 'tok-123' });
const redactor = new Redactor([table.token]);
const AUTH: readonly [string | null, string | null, string][] = [
  ['us-strict', 'tok-123', 'ok:us-strict'],
  ['us-strict-session-a1', 'tok-123', 'ok:us-strict'],
  [null, 'tok-123', 'ok:us-strict'],
  ['us-strict', 'wrong', 'auth'],
  ['us-strict', null, 'auth'],
  ['nowhere', 'tok-123', 'unknown-route'],
];
for (const [username, password, expected] of AUTH) {
  test(`authenticate ${String(username)} / ${String(password)} → ${expected}`, () => {
    const result = authenticate(table, { username, password }, redactor);
    assert.equal(result.ok ? `ok:${result.label}` : result.result, expected);
  });
}

test('a route the table resolves but does not list gets the label "unknown", never the client text', () => {
  const geo = { ...table, lookup: (name: string) => ({ name, kind: 'geo' as const, members: [] }) };
  const result = authenticate(geo, { username: 'geo-zz', password: 'tok-123' }, redactor);
  assert.ok(result.ok);
  assert.equal(result.label, 'unknown');
});

test('the 407 body names the routes, capped, and says how to send them', () => {
  const names = Array.from({ length: ROUTE_NAMES_SHOWN + 5 }, (_, i) => `pool-${i}`);
  const body = proxyAuthBody(testRouteTable(names, { token: 't' }), 'unknown route');
  assert.match(body, /pool-0, pool-1/);
  assert.match(body, / and 5 more\./);
  assert.doesNotMatch(body, new RegExp(`pool-${ROUTE_NAMES_SHOWN}\\b`));
  assert.match(body, /proxy username with the gateway token as the password/);
});
