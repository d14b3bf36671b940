import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { Scope, signal, SLACK, waitFor } from './test-support.js';

/** Feedback against the real fixture broker: batched, flushed every second, bounded, never blocking. */
let scope: Scope;
beforeEach(() => {
  scope = new Scope({ timeout: 5 }); // the service answers here: no fallback wanted, even on a loaded machine
});
afterEach(() => scope.close());

const EVENT = { proxyId: 'us-0', event: 'result', success: true, latencyMs: 12 } as const;

describe('feedback', () => {
  test('batched at most 1000 and flushed every second', async () => {
    const fixture = await scope.fixture();
    const client = scope.client([fixture.url]);
    const started = performance.now();
    for (let i = 0; i < 5; i++) client.feedback({ ...EVENT, latencyMs: i });
    assert.equal(client.stats().feedbackPending, 5);
    assert.ok(await waitFor(() => client.stats().feedbackSent === 5, 1 * SLACK));
    assert.ok((performance.now() - started) / 1000 < 1 * SLACK);
    assert.equal(client.stats().feedbackBatches, 1);
    for (let i = 0; i < 2500; i++) client.feedback(EVENT);
    assert.ok(await waitFor(() => client.stats().feedbackSent === 2505, 3));
    assert.equal(client.stats().feedbackBatches, 4, '2500 events: 1000 + 1000 + 500');
    assert.equal(client.stats().feedbackRejected, 0);
    assert.equal(client.stats().feedbackPending, 0);
  });

  test('split into batches of at most 1 MiB (the service refuses more)', async () => {
    const fixture = await scope.fixture();
    const client = scope.client([fixture.url], { feedbackInterval: 60 });
    for (let i = 0; i < 1000; i++) client.feedback({ ...EVENT, errorDetails: 'x'.repeat(1024) });
    await client.close(10); // time enough on a loaded machine
    const stats = client.stats();
    assert.deepEqual([stats.feedbackSent, stats.feedbackBatches, stats.feedbackRejected], [1000, 2, 0]);
  });

  test('a batch over 8 KiB is sent gzip; wire names are taken too; close() flushes', async () => {
    const fixture = await scope.fixture();
    const client = scope.client([fixture.url], { feedbackInterval: 60 });
    for (let i = 0; i < 1500; i++) {
      client.feedback(i % 2 ? EVENT : { proxy_id: 'us-0', event: 'result', success: true, latency_ms: 80 });
    }
    await client.close(10); // time enough on a loaded machine
    const stats = client.stats();
    assert.deepEqual([stats.feedbackSent, stats.feedbackBatches, stats.feedbackRejected], [1500, 2, 0]);
    client.feedback(EVENT); // after close: counted, never thrown
    assert.equal(client.stats().feedbackDropped, 1);
  });

  test('a full buffer drops new events with a counter while the service hangs; feedback() returns at once', async () => {
    const fixture = await scope.fixture();
    signal(fixture, 'SIGSTOP');
    scope.defer(() => {
      signal(fixture, 'SIGCONT');
    });
    const client = scope.client([fixture.url], { feedbackBuffer: 100, feedbackInterval: 0.05 });
    for (let i = 0; i < 1000; i++) client.feedback(EVENT); // synchronous: it returns nothing to await
    await new Promise((resolve) => setTimeout(resolve, 200));
    for (let i = 0; i < 1000; i++) client.feedback(EVENT);
    const stats = client.stats();
    assert.ok(stats.feedbackDropped >= 1800, `dropped ${String(stats.feedbackDropped)}`);
    assert.ok(stats.feedbackPending <= 100);
    assert.equal(stats.feedbackQueued + stats.feedbackDropped, 2000);
  });

  test('events the service would refuse are counted invalid and never sent', async () => {
    const fixture = await scope.fixture();
    const client = scope.client([fixture.url]);
    const bad: unknown[] = [
      null,
      { event: 'result' },
      { proxyId: 'p', event: 'finished' },
      { proxyId: 'p', event: 'result', statusCode: '200' },
      { proxyId: 'p', event: 'result', colour: 1 },
      { proxyId: 'p', proxy_id: 'p', event: 'result' },
    ];
    for (const event of bad) client.feedback(event as typeof EVENT);
    client.feedback(EVENT);
    await client.close(10); // time enough on a loaded machine
    assert.equal(client.stats().feedbackInvalid, 6);
    assert.equal(client.stats().feedbackSent, 1);
  });

  test('a lease reported by its lease id is accepted by the service', async () => {
    const fixture = await scope.fixture();
    const client = scope.client([fixture.url], { feedbackInterval: 60, clientId: 'collector-a' });
    const lease = await client.request({ exchangeId: 'binance', connectionType: 'rest', region: 'US' });
    client.feedback({
      leaseId: lease.leaseId ?? '',
      exchangeId: 'binance',
      event: 'result',
      success: true,
      statusCode: 200,
    });
    await client.close(10); // time enough on a loaded machine
    assert.deepEqual([client.stats().feedbackSent, client.stats().feedbackRejected], [1, 0]);
  });
});
