import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { NoProxyError } from './errors.js';
import type { Lease } from './lease.js';
import { elapsed, Scope, signal, waitFor } from './test-support.js';

/** The cache against the real fixture broker: fresh hits, the key, stale while one refresh runs, no-proxy answers. */
let scope: Scope;
beforeEach(() => {
  scope = new Scope({ timeout: 5 }); // the service answers here: no fallback wanted, even on a loaded machine
});
afterEach(() => scope.close());

const US = { exchangeId: 'binance', connectionType: 'rest', region: 'US' } as const;

describe('the answers cache', () => {
  test('a fresh hit is the same lease from memory; the key is exchange, connection type and region', async () => {
    const fixture = await scope.fixture();
    const client = scope.client([fixture.url]);
    const first = await client.request(US);
    assert.equal(first.source, 'service');
    assert.match(first.proxyUrl ?? '', /^socks5h:\/\/lease_[^:]+:x@127\.0\.0\.1:19050$/);
    assert.equal(first.region, 'US');
    assert.ok(first.expiresAt > Date.now() + 290_000);
    const hit = await client.request(US);
    assert.equal(hit.source, 'cache');
    assert.equal(hit.leaseId, first.leaseId);
    assert.equal(hit.requestId, first.requestId);
    assert.ok(Object.isFrozen(hit));
    for (const key of [
      { ...US, exchangeId: 'okx' },
      { ...US, connectionType: 'websocket' },
      { ...US, region: 'us' },
    ]) {
      assert.equal((await client.request(key)).source, 'service', JSON.stringify(key));
    }
    assert.equal(client.stats().serviceAnswers, 4);
    assert.equal((await client.request({ ...US, clientId: 'other' })).source, 'cache', 'client id is not in the key');
    assert.equal(client.stats().cacheHits, 2);
    assert.equal(client.stats().cacheEntries, 4);
  });

  test('a cached hit does no I/O: served while the service hangs', async () => {
    const fixture = await scope.fixture();
    const client = scope.client([fixture.url]);
    await client.request(US);
    signal(fixture, 'SIGSTOP');
    scope.defer(() => {
      signal(fixture, 'SIGCONT');
    });
    const started = performance.now();
    for (let i = 0; i < 1000; i++) assert.equal((await client.request(US)).source, 'cache');
    assert.ok(elapsed(started) < 0.25, 'no call waited for the service');
  });

  test('past its TTL an answer is served stale while one refresh runs, then the refreshed one', async () => {
    const fixture = await scope.fixture({ ttl: 1 });
    const client = scope.client([fixture.url], { timeout: 0.8 }); // the hung refresh fails within 0.8 s
    const first = await client.request(US);
    await new Promise((resolve) => setTimeout(resolve, 1050));
    signal(fixture, 'SIGSTOP'); // the refresh hangs: stale answers must not wait for it
    scope.defer(() => {
      signal(fixture, 'SIGCONT');
    });
    const started = performance.now();
    const stale = await Promise.all(Array.from({ length: 16 }, () => client.request(US)));
    assert.ok(elapsed(started) < 0.25, 'stale answers do not wait for the refresh');
    assert.deepEqual(new Set(stale.map((lease) => lease.source)), new Set(['stale']));
    assert.deepEqual(new Set(stale.map((lease) => lease.leaseId)), new Set([first.leaseId]));
    assert.equal(client.stats().refreshes, 1, 'one refresh for 16 callers');
    assert.ok(await waitFor(() => client.stats().refreshFailures === 1, 2), 'the hung refresh failed');
    signal(fixture, 'SIGCONT');
    let last: Lease | undefined;
    assert.ok(
      await waitFor(async () => {
        last = await client.request(US);
        return last.source === 'cache';
      }, 3),
    );
    assert.notEqual(last?.leaseId, first.leaseId, 'the lease had ended: a new one');
  });

  test('callers missing the same key at the same time share one service call', async () => {
    const fixture = await scope.fixture();
    const client = scope.client([fixture.url]);
    const leases = await Promise.all(
      Array.from({ length: 400 }, (_, i) =>
        client.request({ exchangeId: `ex-${String(i % 10)}`, connectionType: 'rest', region: 'US' }),
      ),
    );
    assert.equal(leases.length, 400);
    assert.equal(client.stats().serviceAnswers, 10, 'one service call per key');
    assert.equal(leases.filter((lease) => lease.source === 'service').length, 400, 'all share the first answer');
    assert.equal(new Set(leases.map((lease) => lease.leaseId)).size, 10);
  });

  test('no proxy in the region: direct, embedded or fail, each cached for its TTL', async () => {
    const direct = scope.client([(await scope.fixture({ policy: 'direct_connection' })).url]);
    const lease = await direct.request({ ...US, region: 'JP' });
    assert.deepEqual([lease.source, lease.proxyUrl, lease.fallbackPolicy], ['direct', null, 'direct_connection']);
    assert.equal((await direct.request({ ...US, region: 'JP' })).source, 'direct');
    assert.equal(direct.stats().direct, 1);
    assert.equal(direct.stats().cacheHits, 1);

    const embedded = scope.client([(await scope.fixture({ policy: 'embedded' })).url]);
    const fallback = await embedded.request({ ...US, region: 'JP' });
    assert.deepEqual([fallback.source, fallback.proxyUrl], ['embedded', 'socks5h://127.0.0.1:29999']);

    const fail = scope.client([(await scope.fixture({ policy: 'fail' })).url]);
    for (let i = 0; i < 3; i++) {
      const error = await fail.request({ ...US, region: 'JP' }).catch((e: unknown) => e);
      assert.ok(error instanceof NoProxyError);
      assert.equal(error.fallbackPolicy, 'fail');
      assert.equal(error.region, 'JP');
    }
    assert.equal(fail.stats().noProxy, 1, 'one service call: the answer is cached');
    assert.equal(fail.stats().cacheHits, 2);
  });

  test('after close(): cached answers are still served, anything else rejects', async () => {
    const fixture = await scope.fixture();
    const client = scope.client([fixture.url]);
    await client.request(US);
    await client.close();
    assert.equal((await client.request(US)).source, 'cache');
    await assert.rejects(client.request({ ...US, exchangeId: 'new' }), /closed/);
  });
});
