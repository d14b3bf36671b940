import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { packagePath } from '../package-root.js';
import { leaseAnswer, leaseProxyUrl, newLeaseId, noProxyAnswer } from './lease-answer.js';

const schema = JSON.parse(readFileSync(packagePath('schemas', 'broker', 'proxy-answer.schema.json'), 'utf8')) as object;
const validAnswer = new Ajv2020({ strict: true, allowUnionTypes: true }).compile(schema);

describe('lease answers', () => {
  test('lease ids: 128 random bits, URL-safe, never the same twice', () => {
    const ids = new Set(Array.from({ length: 1000 }, newLeaseId));
    assert.equal(ids.size, 1000);
    for (const id of ids) assert.match(id, /^lease_[A-Za-z0-9_-]{22}$/);
  });

  const URLS: ReadonlyArray<[string, number, string]> = [
    ['127.0.0.1', 19050, 'socks5h://lease_abc:x@127.0.0.1:19050'],
    ['::1', 19050, 'socks5h://lease_abc:x@[::1]:19050'],
  ];
  for (const [host, port, want] of URLS) {
    test(`proxy_url on ${host}: the lease is the SOCKS user name`, () => {
      const url = leaseProxyUrl('lease_abc', host, port);
      assert.equal(url, want);
      const parsed = new URL(url);
      assert.deepEqual([parsed.username, parsed.password, parsed.port], ['lease_abc', 'x', String(port)]);
    });
  }

  test('the answer has the contract shape; health score rounded to 3 places', () => {
    const answer = leaseAnswer({
      id: 'lease_abc',
      proxyId: 'us-strict-0',
      host: '127.0.0.1',
      port: 19050,
      region: 'us-east-1',
      ttlSeconds: 600,
      healthScore: 0.987654,
      strategy: 'power_of_two_choices',
      fallback: 'embedded',
    });
    assert.deepEqual(answer, {
      proxy_url: 'socks5h://lease_abc:x@127.0.0.1:19050',
      strategy: 'power_of_two_choices',
      ttl_seconds: 600,
      fallback_policy: 'embedded',
      metadata: { proxy_id: 'us-strict-0', lease_id: 'lease_abc', region: 'us-east-1', health_score: 0.988 },
    });
    assert.ok(validAnswer(answer), JSON.stringify(validAnswer.errors));
  });

  test('nothing healthy: proxy_url null with the policy, still the contract shape', () => {
    const answer = noProxyAnswer('DE', 'direct_connection', 30);
    assert.equal(answer.proxy_url, null);
    assert.ok(validAnswer(answer), JSON.stringify(validAnswer.errors));
    assert.ok(!validAnswer({ ...answer, fallback_policy: 'retry' }), 'the schema can refuse');
  });
});
