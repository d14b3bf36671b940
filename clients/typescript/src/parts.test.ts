import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AnswerCache } from './cache.js';
import { Endpoint, parseUrls } from './endpoints.js';
import { EmbeddedFallback } from './fallback.js';
import { FEEDBACK_BATCH, FEEDBACK_BATCH_BYTES, FeedbackBuffer, toWireEvent } from './feedback-buffer.js';

/** The client's pure parts, table-driven. */
describe('feedback events', () => {
  test('camelCase or wire names, checked as the service checks them', () => {
    assert.deepEqual(toWireEvent({ leaseId: 'l', event: 'result', latencyMs: 1, statusCode: 200 }), {
      lease_id: 'l',
      event: 'result',
      latency_ms: 1,
      status_code: 200,
    });
    assert.deepEqual(toWireEvent({ leaseId: null, proxyUrl: 'socks5h://x', event: 'connect' }), {
      proxy_url: 'socks5h://x',
      event: 'connect',
    });
    assert.match(toWireEvent({ leaseId: null, event: 'connect' }) as string, /required/);
    assert.deepEqual(toWireEvent({ proxy_url: 'socks5h://x', event: 'connect' }), {
      proxy_url: 'socks5h://x',
      event: 'connect',
    });
    for (const [event, problem] of [
      [null, /not an object/],
      [[], /not an object/],
      [{ event: 'result' }, /required/],
      [{ proxyId: 'p', event: 'done' }, /event must be/],
      [{ proxyId: 'p', event: 'result', colour: 1 }, /unknown field/],
      [{ proxyId: 'p', proxy_id: 'p', event: 'result' }, /twice/],
      [{ proxyId: '', event: 'result' }, /proxy_id/],
      [{ proxyId: 'p', event: 'result', success: 1 }, /success/],
      [{ proxyId: 'p', event: 'result', latencyMs: -1 }, /latency_ms/],
      [{ proxyId: 'p', event: 'result', statusCode: 99 }, /status_code/],
      [{ proxyId: 'p', event: 'result', statusCode: 200.5 }, /status_code/],
      [{ proxyId: 'p', event: 'result', exchangeId: '-x' }, /exchange_id/],
      [{ proxyId: 'p', event: 'result', connectionType: 'REST' }, /connection_type/],
      [{ proxyId: 'p', event: 'result', errorDetails: 'x'.repeat(1025) }, /error_details/],
      [{ proxyId: 'p', event: 'result', timestamp: true }, /timestamp/],
    ] as const) {
      const got = toWireEvent(event);
      assert.equal(typeof got, 'string', JSON.stringify(event));
      assert.match(got as string, problem);
    }
  });

  test('the buffer: bounded, batches of at most 1000 events and 1 MiB, put back in front while there is room', () => {
    const buffer = new FeedbackBuffer(2500);
    for (let i = 0; i < 2600; i++) buffer.push(`{"n":${String(i)}}`);
    assert.equal(buffer.length, 2500);
    const first = buffer.take();
    assert.equal(first.length, FEEDBACK_BATCH);
    assert.equal(first[0], '{"n":0}');
    assert.equal(buffer.putBack(first), 1000);
    assert.equal(buffer.take()[0], '{"n":0}');
    buffer.drain();
    const big = `"${'x'.repeat(5000)}"`;
    for (let i = 0; i < 300; i++) buffer.push(big);
    const batch = buffer.take();
    assert.ok(`[${batch.join(',')}]`.length <= FEEDBACK_BATCH_BYTES);
    assert.equal(batch.length, Math.floor((FEEDBACK_BATCH_BYTES - 1) / (big.length + 1)));
    const small = new FeedbackBuffer(3);
    small.push('a');
    small.push('b');
    assert.equal(small.putBack(['x', 'y']), 1, 'only the room left');
  });
});

describe('the embedded fallback', () => {
  const fallback = new EmbeddedFallback({
    regions: { US: ['u0', 'u1', 'u2'], DE: 'd0', '*': ['any'], EMPTY: [] },
  });
  test('the region exactly, then upper-cased, then *', () => {
    assert.equal(fallback.pick('x', 'rest', 'DE'), 'd0');
    assert.equal(fallback.pick('x', 'rest', 'de'), 'd0');
    assert.equal(fallback.pick('x', 'rest', 'JP'), 'any');
    assert.equal(fallback.pick('x', 'rest', 'EMPTY'), 'any');
    assert.equal(new EmbeddedFallback(null).pick('x', 'rest', 'US'), null);
    assert.throws(() => new EmbeddedFallback({ regions: { US: [''] } }), /want a list/);
  });
  test('one URL by a CRC-32 of exchange and connection type: the Python client picks the same', () => {
    // zlib.crc32(b"binance\0rest") % 3 == 1 and so on, computed with Python.
    for (const [exchange, type, index] of [
      ['binance', 'rest', 1],
      ['okx', 'websocket', 0],
      ['bybit', 'rest', 0],
    ] as const) {
      assert.equal(fallback.pick(exchange, type, 'US'), `u${String(index)}`);
    }
  });
});

describe('the cache and endpoints', () => {
  test('at most maxEntries: entries past their stale window go first, then the oldest', () => {
    const cache = new AnswerCache<string>(3);
    cache.set('a', 0, 10, 0, 'a', 'a', true);
    cache.set('b', 0, 1000, 0, 'b', 'b', true);
    cache.set('c', 0, 1000, 0, 'c', 'c', true);
    cache.set('d', 100, 1000, 0, 'd', 'd', true);
    assert.equal(cache.get('a'), undefined, 'past its window');
    assert.equal(cache.size, 3);
    cache.set('e', 100, 1000, 0, 'e', 'e', true);
    assert.equal(cache.get('b'), undefined, 'the oldest');
    assert.notEqual(cache.get('c'), undefined);
  });

  test('URLs: one a line or comma-separated, # comments; only http(s)://HOST[:PORT]', () => {
    assert.deepEqual(parseUrls('# brokers\nhttp://a:1  # first\n\nhttps://b:2,http://c\n'), [
      'http://a:1',
      'https://b:2',
      'http://c',
    ]);
    const endpoint = new Endpoint('https://[::1]/base/', { threshold: 2, baseMs: 1, maxMs: 1 }, null);
    assert.deepEqual([endpoint.host, endpoint.port, endpoint.prefix, endpoint.https], ['::1', 443, '/base', true]);
    endpoint.closeIdle();
    for (const bad of ['ftp://x', 'nowhere', 'http://']) {
      assert.throws(() => new Endpoint(bad, { threshold: 2, baseMs: 1, maxMs: 1 }, null), /want http/);
    }
  });
});
