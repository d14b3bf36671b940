import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { BrokerError, ServiceUnavailableError } from './errors.js';
import { elapsed, refusedUrl, Scope, signal, SLACK, waitFor } from './test-support.js';

/**
 * The client when the service fails: the real fixture broker killed (port refused) or hung (SIGSTOP: connections
 * accepted by the kernel, never answered), and raw peers on loopback that answer garbage, drip or never stop.
 */
let scope: Scope;
beforeEach(() => {
  scope = new Scope();
});
afterEach(() => scope.close());

const hang = (): void => undefined;

describe('the service killed or hung', () => {
  test('a refused port falls back to the embedded configuration at once', async () => {
    const client = scope.client([await refusedUrl()]);
    const started = performance.now();
    const lease = await client.request({ exchangeId: 'binance', connectionType: 'rest', region: 'US' });
    assert.ok(elapsed(started) < 1 * SLACK);
    assert.equal(lease.source, 'embedded');
    assert.equal(lease.proxyUrl, 'socks5h://127.0.0.1:29050');
    assert.equal(lease.leaseId, null);
    assert.equal(lease.ttlSeconds, 0);
    const other = await client.request({ exchangeId: 'binance', connectionType: 'rest', region: 'JP' });
    assert.equal(other.proxyUrl, 'socks5h://127.0.0.1:29999', '* is any region');
  });

  test('no fallback for the region rejects with ServiceUnavailableError', async () => {
    const client = scope.client([await refusedUrl()], { fallback: null });
    await assert.rejects(
      client.request({ exchangeId: 'binance', connectionType: 'rest', region: 'US' }),
      ServiceUnavailableError,
    );
    assert.equal(client.stats().noProxy, 1);
  });

  test('the fixture broker killed: fallback within 1 s; back on the service once it is up again', async () => {
    const fixture = await scope.fixture();
    const client = scope.client([fixture.url], { breakerMaxSeconds: 0.5 });
    assert.equal(
      (await client.request({ exchangeId: 'warm', connectionType: 'rest', region: 'US' })).source,
      'service',
    );
    await fixture.stop();
    const started = performance.now();
    const lease = await client.request({ exchangeId: 'after', connectionType: 'rest', region: 'US' });
    assert.equal(lease.source, 'embedded');
    assert.ok(elapsed(started) < 1 * SLACK, `fallback took ${String(elapsed(started))} s`);
    const cached = await client.request({ exchangeId: 'warm', connectionType: 'rest', region: 'US' });
    assert.equal(cached.source, 'cache', 'a fresh answer is still served from the cache');
  });

  test('the fixture broker hung (SIGSTOP): fallback within 1 s, dead within 2 s, back after SIGCONT', async () => {
    const fixture = await scope.fixture();
    const client = scope.client([fixture.url], { breakerMaxSeconds: 1 });
    assert.equal(
      (await client.request({ exchangeId: 'warm', connectionType: 'rest', region: 'US' })).source,
      'service',
    );
    signal(fixture, 'SIGSTOP');
    scope.defer(() => {
      signal(fixture, 'SIGCONT');
    });
    const started = performance.now();
    let n = 0;
    const first = await client.request({ exchangeId: `hung-${String(n)}`, connectionType: 'rest', region: 'US' });
    assert.equal(first.source, 'embedded');
    assert.ok(elapsed(started) < 1 * SLACK, `fallback took ${String(elapsed(started))} s`);
    while (client.stats().endpoints[0]?.state === 'closed' && elapsed(started) < 5) {
      n += 1;
      await client.request({ exchangeId: `hung-${String(n)}`, connectionType: 'rest', region: 'US' });
    }
    assert.notEqual(client.stats().endpoints[0]?.state, 'closed');
    assert.ok(elapsed(started) < 2 * SLACK, `dead endpoint found after ${String(elapsed(started))} s`);
    assert.equal(client.stats().endpoints[0]?.lastError, 'timed out');
    const skipped = performance.now();
    assert.equal(
      (await client.request({ exchangeId: 'open', connectionType: 'rest', region: 'US' })).source,
      'embedded',
    );
    assert.ok(elapsed(skipped) < 0.25, 'an open breaker is skipped at once');
    signal(fixture, 'SIGCONT');
    const back = performance.now();
    assert.ok(
      await waitFor(
        async () =>
          (await client.request({ exchangeId: `back-${String(++n)}`, connectionType: 'rest', region: 'US' })).source ===
          'service',
        3,
      ),
    );
    assert.ok(elapsed(back) < 1 * SLACK + 1, 'left the fallback once the breaker lets a probe through');
  });

  test('a hung first endpoint fails over to the second within the same call, then is skipped', async () => {
    const fixture = await scope.fixture({ port: 19077 });
    // 1.6 s for the call: 0.8 s for the hung endpoint, the rest for the second.
    const client = scope.client([await scope.peer(hang), fixture.url], { timeout: 1.6 });
    const started = performance.now();
    const lease = await client.request({ exchangeId: 'binance', connectionType: 'rest', region: 'US' });
    assert.equal(lease.source, 'service');
    assert.match(lease.proxyUrl ?? '', /:19077$/);
    assert.ok(elapsed(started) < 1.6 * SLACK);
    assert.equal((await client.request({ exchangeId: 'okx', connectionType: 'rest', region: 'US' })).source, 'service');
    assert.equal(client.stats().endpoints[0]?.state, 'open');
    const again = performance.now();
    assert.equal(
      (await client.request({ exchangeId: 'bybit', connectionType: 'rest', region: 'US' })).source,
      'service',
    );
    assert.ok(elapsed(again) < 0.25, 'the open endpoint is skipped');
  });

  test('half-open lets one probe through; the others fall back without waiting for it', async () => {
    const fixture = await scope.fixture();
    const client = scope.client([fixture.url], { breakerBaseSeconds: 0.2, breakerMaxSeconds: 0.2 });
    signal(fixture, 'SIGSTOP');
    scope.defer(() => {
      signal(fixture, 'SIGCONT');
    });
    await client.request({ exchangeId: 'a', connectionType: 'rest', region: 'US' });
    await client.request({ exchangeId: 'b', connectionType: 'rest', region: 'US' });
    assert.equal(client.stats().endpoints[0]?.state, 'open');
    assert.equal(client.stats().serviceFailures, 2);
    await new Promise((resolve) => setTimeout(resolve, 250));
    assert.equal(client.stats().endpoints[0]?.state, 'half_open');
    const started = performance.now();
    const timed = await Promise.all(
      [0, 1, 2, 3, 4, 5].map(async (n) => {
        const lease = await client.request({ exchangeId: `k${String(n)}`, connectionType: 'rest', region: 'US' });
        return { source: lease.source, took: elapsed(started) };
      }),
    );
    assert.deepEqual(new Set(timed.map((entry) => entry.source)), new Set(['embedded']));
    assert.equal(timed.filter((entry) => entry.took < 0.25).length, 5, 'the others do not wait for the probe');
    assert.equal(client.stats().serviceFailures, 3, 'one probe');
    assert.equal(client.stats().endpoints[0]?.state, 'open');
  });
});

describe('answers that are not a proxy answer', () => {
  const canned =
    (data: Buffer | string, close = true) =>
    (socket: import('node:net').Socket): void => {
      socket.write(data);
      if (close) socket.end();
    };

  test('500s, garbage, non-JSON, truncated answers count against the endpoint', async () => {
    for (const data of [
      'HTTP/1.1 500 Internal Server Error\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}',
      'this is not http\r\n\r\n',
      'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 9\r\n\r\nnot json!',
      'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n[]',
      'HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{"proxy_url": "socks5h://x',
      Buffer.concat([
        Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n'),
        Buffer.from([0xff, 0xfe, 0, 97, 98]),
      ]),
      '',
    ]) {
      const client = scope.client([await scope.peer(canned(data))]);
      const started = performance.now();
      const lease = await client.request({ exchangeId: 'binance', connectionType: 'rest', region: 'US' });
      assert.equal(lease.source, 'embedded', String(data));
      assert.ok(elapsed(started) < 1 * SLACK);
      assert.notEqual(client.stats().endpoints[0]?.lastError ?? null, null, String(data));
      assert.ok(client.stats().serviceFailures >= 1);
    }
  });

  test('a 500 is named in the endpoint last error', async () => {
    const client = scope.client([
      await scope.peer(canned('HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\n\r\n')),
    ]);
    await client.request({ exchangeId: 'binance', connectionType: 'rest', region: 'US' });
    assert.equal(client.stats().endpoints[0]?.lastError, 'status 500');
  });

  test('a huge answer is capped, by its Content-Length or as it comes', async () => {
    const big = scope.client(
      [await scope.peer(canned(`HTTP/1.1 200 OK\r\ncontent-length: 50000000\r\n\r\n${'{'.repeat(70000)}`, false))],
      { maxAnswerBytes: 65536 },
    );
    assert.equal((await big.request({ exchangeId: 'b', connectionType: 'rest', region: 'US' })).source, 'embedded');
    assert.match(big.stats().endpoints[0]?.lastError ?? '', /over/);
    const endless = (socket: import('node:net').Socket, stopped: AbortSignal): void => {
      socket.write('HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n');
      const chunk = Buffer.alloc(65536, 32);
      const more = (): void => {
        while (!stopped.aborted && !socket.destroyed && socket.write(chunk));
        if (!stopped.aborted && !socket.destroyed) socket.once('drain', more);
      };
      more();
    };
    const client = scope.client([await scope.peer(endless)]);
    const started = performance.now();
    assert.equal((await client.request({ exchangeId: 'b', connectionType: 'rest', region: 'US' })).source, 'embedded');
    assert.ok(elapsed(started) < 1 * SLACK);
    assert.match(client.stats().endpoints[0]?.lastError ?? '', /over/);
  });

  test('a slow drip of headers or of a body is bounded by the deadline', async () => {
    const drip =
      (head: string, byte: string) =>
      (socket: import('node:net').Socket, stopped: AbortSignal): void => {
        socket.write(head);
        const timer = setInterval(() => {
          if (stopped.aborted || socket.destroyed) clearInterval(timer);
          else socket.write(byte);
        }, 50);
      };
    for (const behave of [
      drip('HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n', ' '),
      drip('HTTP/1.1 200 OK\r\nx-slow: ', 'a'),
    ]) {
      const client = scope.client([await scope.peer(behave)]);
      const started = performance.now();
      assert.equal(
        (await client.request({ exchangeId: 'b', connectionType: 'rest', region: 'US' })).source,
        'embedded',
      );
      assert.ok(elapsed(started) < 1 * SLACK);
      assert.equal(client.stats().endpoints[0]?.lastError, 'timed out');
    }
  });
});

describe("the caller's mistakes and the service's limits", () => {
  test('429 holds the endpoint for its Retry-After without counting as a failure', async () => {
    const fixture = await scope.fixture({ rate: { per_second: 1, burst: 1 } });
    const client = scope.client([fixture.url]);
    assert.equal((await client.request({ exchangeId: 'a', connectionType: 'rest', region: 'US' })).source, 'service');
    assert.equal((await client.request({ exchangeId: 'b', connectionType: 'rest', region: 'US' })).source, 'embedded');
    assert.equal(client.stats().endpoints[0]?.state, 'closed', 'not a breaker failure');
    assert.equal(client.stats().serviceFailures, 0);
    assert.equal((await client.request({ exchangeId: 'c', connectionType: 'rest', region: 'US' })).source, 'embedded');
    assert.equal(client.stats().serviceAnswers, 1, 'held: the third call did not reach the service');
  });

  test('a wrong token (401) or a bad field (400) rejects with BrokerError, no fallback, no breaker', async () => {
    const fixture = await scope.fixture();
    const wrong = scope.client([fixture.url], { token: 't-wrong' });
    const refused = await wrong
      .request({ exchangeId: 'a', connectionType: 'rest', region: 'US' })
      .catch((e: unknown) => e);
    assert.ok(refused instanceof BrokerError);
    assert.equal(refused.status, 401);
    assert.equal(refused.code, 'unauthorized');
    assert.equal(refused.field, 'Authorization');
    assert.match(refused.requestId ?? '', /^ts-[0-9a-f]{8}-\d+$/);
    const client = scope.client([fixture.url]);
    const bad = await client
      .request({ exchangeId: 'a', connectionType: 'rest', region: 'MARS' })
      .catch((e: unknown) => e);
    assert.ok(bad instanceof BrokerError);
    assert.equal(bad.code, 'unknown_region');
    assert.equal(bad.field, 'region');
    assert.equal(client.stats().endpoints[0]?.state, 'closed');
    assert.equal(client.stats().embedded, 0);
  });
});
