import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseJobRequest } from './job-request.js';

describe('POST /v1/requests bodies', () => {
  test('the least a job needs, with the defaults', () => {
    const parsed = parseJobRequest({ url: 'http://127.0.0.1:8080/file.bin', route: 'us-strict' });
    if (!parsed.ok) assert.fail(parsed.problem.message);
    assert.deepEqual(
      { ...parsed.value, url: parsed.value.url.href },
      {
        url: 'http://127.0.0.1:8080/file.bin',
        method: 'GET',
        headers: {},
        body: null,
        ttlSeconds: 3600,
        route: 'us-strict',
      },
    );
  });

  test('everything the contract names', () => {
    const parsed = parseJobRequest({
      url: 'https://127.0.0.1:8443/api?x=1',
      method: 'POST',
      headers: { Accept: 'application/json', 'X-Api-Key': 'k' },
      body: '{"q":1}',
      ttl: 600,
      route: 'geo-de',
    });
    assert.ok(parsed.ok);
  });

  const REFUSED: ReadonlyArray<[string, unknown, string, RegExp]> = [
    ['not an object', [], '', /must be a JSON object/],
    ['no url', { route: 'us' }, 'url', /missing/],
    ['no route', { url: 'http://127.0.0.1/' }, 'route', /missing/],
    ['an ftp URL', { url: 'ftp://127.0.0.1/f', route: 'us' }, 'url', /http:\/\/ or https:\/\//],
    ['a file URL', { url: 'file:///etc/passwd', route: 'us' }, 'url', /http:\/\/ or https:\/\//],
    ['a URL that does not parse', { url: 'http://[::1/', route: 'us' }, 'url', /not a URL/],
    [
      'credentials in the URL',
      { url: 'http://user:pw@127.0.0.1/', route: 'us' },
      'url',
      /credentials in the URL are refused/,
    ],
    ['a long URL', { url: `http://127.0.0.1/${'a'.repeat(2100)}`, route: 'us' }, 'url', /at most 2048/],
    ['method PUT', { url: 'http://127.0.0.1/', method: 'PUT', route: 'us' }, 'method', /GET \(the default\) or POST/],
    [
      'a header with CR LF',
      { url: 'http://127.0.0.1/', headers: { A: 'x\r\nB: y' }, route: 'us' },
      'headers.A',
      /no CR, LF, NUL or other control characters/,
    ],
    [
      'a header name with a space',
      { url: 'http://127.0.0.1/', headers: { 'A B': 'x' }, route: 'us' },
      'headers',
      /names of HTTP token characters/,
    ],
    [
      'a framing header',
      { url: 'http://127.0.0.1/', headers: { 'Content-Length': '5' }, route: 'us' },
      'headers.Content-Length',
      /sets this header itself/,
    ],
    [
      'a Host header',
      { url: 'http://127.0.0.1/', headers: { host: 'x' }, route: 'us' },
      'headers.host',
      /sets this header itself/,
    ],
    ['a GET with a body', { url: 'http://127.0.0.1/', body: 'x', route: 'us' }, 'body', /a GET carries no body/],
    ['ttl too short', { url: 'http://127.0.0.1/', ttl: 5, route: 'us' }, 'ttl', /from 60 to 2592000/],
    ['ttl not whole', { url: 'http://127.0.0.1/', ttl: 60.5, route: 'us' }, 'ttl', /must be integer/],
    ['a route with capitals', { url: 'http://127.0.0.1/', route: 'US' }, 'route', /the gateway route to fetch through/],
    [
      'an unknown field',
      { url: 'http://127.0.0.1/', route: 'us', priority: 1 },
      'priority',
      /not a field of this body/,
    ],
  ];
  for (const [name, body, field, message] of REFUSED) {
    test(`refused: ${name}`, () => {
      const parsed = parseJobRequest(body);
      if (parsed.ok) assert.fail('accepted');
      assert.equal(parsed.problem.field, field);
      assert.match(parsed.problem.message, message);
    });
  }
});
