import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Secret } from '../fleet/secret.js';
import { basicAuthorization, socksCredentials, torIsolation } from './hop-credentials.js';

test('socksCredentials splits USER:PASSWORD at the first colon', () => {
  assert.deepEqual(socksCredentials(new Secret('u:p:q')), { user: 'u', password: 'p:q' });
  assert.deepEqual(socksCredentials(new Secret('only')), { user: 'only', password: '' });
});

test('basicAuthorization encodes the whole USER:PASSWORD', () => {
  assert.equal(basicAuthorization(new Secret('user:pa:ss')), `Basic ${Buffer.from('user:pa:ss').toString('base64')}`);
});

test('torIsolation: a session gives credentials bound to its route; no session, none', () => {
  assert.deepEqual(torIsolation('us', 'abc'), { user: 'torfleet-us', password: 'abc' });
  assert.notDeepEqual(torIsolation('us', 'abc'), torIsolation('geo-us', 'abc'));
  assert.equal(torIsolation('us', null), null);
});
