import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Secret } from '../fleet/secret.js';
import { testRouteTable } from '../testing/gateway-fixtures.js';
import { tableRedactor } from './gateway.js';
import type { Route } from './route-types.js';

test('the default redactor hides the token, the corporate and every upstream credential', () => {
  const base = testRouteTable(['provider'], { token: 'gw-token-1' });
  const provider: Route = {
    name: 'provider',
    kind: 'upstream',
    members: [
      { kind: 'upstream', id: 'provider', protocol: 'http', host: '127.0.0.1', port: 1, auth: new Secret('up:pw-77') },
    ],
  };
  const table = {
    ...base,
    lookup: (name: string) => (name === 'provider' ? provider : undefined),
    corporate: { host: '127.0.0.1', port: 2, auth: new Secret('corp:cpw-88') },
  };
  const text = tableRedactor(table).redact('gw-token-1 pw-77 cpw-88 up:pw-77 corp:cpw-88 kept');
  assert.doesNotMatch(text, /gw-token-1|pw-77|cpw-88/);
  assert.match(text, /kept$/);
});
