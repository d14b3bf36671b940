import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TorfleetError } from '../errors.js';
import { buildOnionooDetails, type OnionooDetailsJson } from '../testing/onionoo-fixture.js';
import { OnionooTestServer } from '../testing/onionoo-server.js';
import { sharedConsensusFile, sharedGeoIpFile } from '../testing/shared-data.js';
import { tempDir } from '../testing/temp-dir.js';
import { createConsensusSource } from './consensus-source.js';
import { NodeStore } from './node-store.js';
import { createOnionooSource, type OnionooFetchOptions } from './onionoo-source.js';
import { refreshNodes } from './refresh-nodes.js';

const HOUR = 3_600_000;
/** Eligible exits of the shared 2022 data: 1438 Exit minus BadExit ones, by GeoIP country (2 "EU" ones in neither). */
const SHARED_ELIGIBLE = { US: 294, NON_US: 1132 };

/** The shared document, published at `time` (2022-11-19, UTC). */
function publishedAt(time: string, relays = details.relays): OnionooDetailsJson {
  return { ...details, relays_published: `2022-11-19 ${time}`, relays };
}

const details: OnionooDetailsJson = buildOnionooDetails();
const server = new OnionooTestServer(details);
let baseUrl = '';
before(async () => {
  baseUrl = await server.start();
});
after(() => server.stop());

/** Waits recorded instead of slept, and no jitter: the retry schedule becomes exact. */
function fastRetries(): OnionooFetchOptions & { delays: number[] } {
  const delays: number[] = [];
  return {
    delays,
    random: () => 1,
    sleep: (ms) => {
      delays.push(ms);
      return Promise.resolve();
    },
  };
}

function freshStore(): NodeStore {
  return NodeStore.open(path.join(tempDir('refresh'), 'nodes.db'));
}

async function expectFailure(store: NodeStore, options: OnionooFetchOptions, pattern: RegExp): Promise<TorfleetError> {
  const before = store.stats(new Date(), HOUR);
  let caught: unknown;
  await refreshNodes({ source: createOnionooSource(baseUrl, options), store }).catch((error: unknown) => {
    caught = error;
  });
  assert.ok(caught instanceof TorfleetError, `expected a TorfleetError, got ${String(caught)}`);
  assert.match(caught.message, pattern);
  const last = store.recentRefreshes(1)[0];
  assert.equal(last?.outcome, 'failed');
  assert.match(last.error ?? '', pattern);
  assert.deepEqual({ ...store.stats(new Date(), HOUR), refreshedAt: null }, { ...before, refreshedAt: null });
  return caught;
}

describe('onionoo source against a loopback Onionoo server (real HTTP, real SQLite)', { concurrency: false }, () => {
  const store = freshStore();
  after(() => {
    store.close();
  });

  test('200: asks for running relays and only the fields it uses, gzip; stores every relay', async () => {
    const outcome = await refreshNodes({ source: createOnionooSource(baseUrl), store });
    assert.deepEqual(outcome, { kind: 'updated', relays: 6088, relaysPublished: new Date('2022-11-19T10:00:00Z') });
    const request = server.requests.at(-1);
    const url = new URL(request?.url ?? '', baseUrl);
    assert.equal(url.pathname, '/details');
    assert.equal(url.searchParams.get('type'), 'relay');
    assert.equal(url.searchParams.get('running'), 'true');
    assert.ok(url.searchParams.get('fields')?.split(',').includes('exit_addresses'));
    assert.match(request?.headers['accept-encoding'] ?? '', /gzip/);
    assert.equal(request?.headers['if-modified-since'], undefined);
    const stats = store.stats(new Date('2022-11-19T11:00:00Z'), 3 * HOUR);
    assert.deepEqual(stats.exits, SHARED_ELIGIBLE);
    assert.equal(stats.relays, 6088);
    assert.equal(stats.stale, false);
  });

  test('304: sends If-Modified-Since from the last Last-Modified; the DB stays, the check is logged', async () => {
    const outcome = await refreshNodes({ source: createOnionooSource(baseUrl), store });
    assert.deepEqual(outcome, { kind: 'not_modified' });
    assert.equal(server.requests.at(-1)?.headers['if-modified-since'], server.lastModified.toUTCString());
    assert.equal(store.recentRefreshes(1)[0]?.outcome, 'not_modified');
    assert.deepEqual(store.stats(new Date(), HOUR).exits, SHARED_ELIGIBLE);
  });

  test('a newer document replaces the relay set', async () => {
    server.publish(publishedAt('11:00:00', details.relays.slice(0, 5000)), new Date('2022-11-19T11:05:00Z'));
    const outcome = await refreshNodes({ source: createOnionooSource(baseUrl), store });
    assert.equal(outcome.kind, 'updated');
    assert.equal(store.stats(new Date(), HOUR).relays, 5000);
    assert.equal(store.stats(new Date(), HOUR).relaysPublished, '2022-11-19T11:00:00.000Z');
    server.publish(publishedAt('12:00:00'), new Date('2022-11-19T12:05:00Z'));
  });

  test('503 with Retry-After: waits as asked, then succeeds', async () => {
    server.script.push({ kind: 'status', status: 503, headers: { 'retry-after': '7' } });
    const options = fastRetries();
    const outcome = await refreshNodes({ source: createOnionooSource(baseUrl, options), store });
    assert.equal(outcome.kind, 'updated');
    assert.deepEqual(options.delays, [7000]);
  });

  test('a dropped connection mid-body is retried with exponential backoff', async () => {
    server.script.push({ kind: 'cut-connection' }, { kind: 'status', status: 502 });
    const options = fastRetries();
    server.publish(publishedAt('13:00:00'), new Date('2022-11-19T13:05:00Z'));
    const outcome = await refreshNodes({ source: createOnionooSource(baseUrl, options), store });
    assert.equal(outcome.kind, 'updated');
    assert.deepEqual(options.delays, [1000, 2000]);
  });

  test('persistent 500s: gives up after 4 attempts, nothing changed', async () => {
    for (let i = 0; i < 4; i++) server.script.push({ kind: 'status', status: 500 });
    const options = fastRetries();
    const error = await expectFailure(store, options, /unavailable after 4 attempts: HTTP 500/);
    assert.equal(error.disposition, 'waiting');
    assert.deepEqual(options.delays, [1000, 2000, 4000]);
  });

  test('a Retry-After beyond the bound is not waited for', async () => {
    server.script.push({ kind: 'status', status: 429, headers: { 'retry-after': '3600' } });
    const options = fastRetries();
    await expectFailure(store, options, /asks to wait 3600 s/);
    assert.deepEqual(options.delays, []);
  });

  test('truncated JSON is rejected and changes nothing', async () => {
    server.script.push({ kind: 'truncated' });
    await expectFailure(store, fastRetries(), /not valid JSON \(truncated\?\)/);
  });

  test('an HTML page instead of JSON is rejected', async () => {
    server.script.push({ kind: 'body', contentType: 'text/html', body: '<html>captive portal</html>' });
    await expectFailure(store, fastRetries(), /content-type "text\/html", not JSON/);
  });

  test('JSON of the wrong shape is rejected', async () => {
    server.script.push({ kind: 'body', contentType: 'application/json', body: '{"relays": []}' });
    await expectFailure(store, fastRetries(), /must have required property 'relays_published'/);
    server.script.push({ kind: 'body', contentType: 'application/json', body: '{"relays": [{"nickname": "x"}]}' });
    await expectFailure(store, fastRetries(), /\/relays\/0 must have required property 'fingerprint'/);
    server.script.push({ kind: 'body', contentType: 'application/json', body: '[1, 2, 3]' });
    await expectFailure(store, fastRetries(), /not JSON of the expected shape: expected \{ at byte 0/);
    server.script.push({
      kind: 'body',
      contentType: 'application/json',
      body: '{"relays_published": "2022-11-19 10:00:00", "relays": [{"fingerprint": "not-hex"}]}',
    });
    await expectFailure(store, fastRetries(), /\/relays\/0\/fingerprint must match pattern/);
  });

  test('404 is not retried', async () => {
    server.script.push({ kind: 'status', status: 404 });
    const options = fastRetries();
    await expectFailure(store, options, /answered HTTP 404; check the URL/);
    assert.deepEqual(options.delays, []);
  });

  test('missing optional fields are tolerated and unknown fields ignored', async () => {
    const fresh = freshStore();
    server.script.push({
      kind: 'body',
      contentType: 'application/json; charset=utf-8',
      body: JSON.stringify({
        version: '9.9',
        relays_published: '2022-11-19 10:00:00',
        unknown_top: { a: 1 },
        relays: [
          {
            fingerprint: 'a'.repeat(40),
            flags: ['Exit', 'Running'],
            or_addresses: ['192.0.2.1:443'],
            country: 'de',
            surprise: true,
          },
          { fingerprint: 'B'.repeat(40) },
        ],
      }),
    });
    const outcome = await refreshNodes({ source: createOnionooSource(baseUrl), store: fresh });
    assert.equal(outcome.kind, 'updated');
    assert.deepEqual(fresh.eligibleExits('NON_US'), [
      {
        fingerprint: 'A'.repeat(40),
        nickname: 'Unnamed',
        address: '192.0.2.1',
        country: 'DE',
        network: '192.0.0.0/16',
      },
    ]);
    assert.equal(fresh.stats(new Date(), HOUR).relays, 2);
    fresh.close();
  });
});

describe('the snapshot guard keeps the last good snapshot (real HTTP, real SQLite)', { concurrency: false }, () => {
  const store = freshStore();
  after(() => {
    store.close();
  });
  let clock = new Date('2022-11-19T10:30:00Z');
  const now = (): Date => clock;
  const serve = (document: OnionooDetailsJson | string): void => {
    const body = typeof document === 'string' ? document : JSON.stringify(document);
    server.script.push({ kind: 'body', contentType: 'application/json', body });
  };
  const refresh = (acceptSnapshot = false) =>
    refreshNodes({ source: createOnionooSource(baseUrl), store, now, acceptSnapshot });
  const withoutUsExits = details.relays.filter((r) => r.country !== 'us');

  test('the first snapshot is stored', async () => {
    serve(publishedAt('10:00:00'));
    assert.equal((await refresh()).kind, 'updated');
    assert.deepEqual(store.stats(now(), 3 * HOUR).exits, SHARED_ELIGIBLE);
  });

  test('an empty snapshot published 5 minutes ago is refused; the fleet keeps its exits', async () => {
    clock = new Date('2022-11-19T11:00:00Z');
    serve('{"relays_published": "2022-11-19 10:55:00", "relays": []}');
    const outcome = await refresh();
    assert.deepEqual(outcome, {
      kind: 'refused',
      reason: 'empty',
      message: 'the snapshot published 2022-11-19T10:55:00.000Z lists no relays',
      relaysPublished: new Date('2022-11-19T10:55:00Z'),
    });
    const stats = store.stats(now(), 3 * HOUR);
    assert.deepEqual(stats.exits, SHARED_ELIGIBLE);
    assert.equal(stats.relays, 6088);
    assert.equal(stats.relaysPublished, '2022-11-19T10:00:00.000Z');
    assert.deepEqual(stats.lastRefusal, {
      at: '2022-11-19T11:00:00.000Z',
      reason: 'empty',
      message: 'the snapshot published 2022-11-19T10:55:00.000Z lists no relays',
      relaysPublished: '2022-11-19T10:55:00.000Z',
    });
    assert.deepEqual(
      store.recentRefreshes(1).map((r) => [r.outcome, r.reason, r.relays]),
      [['refused', 'empty', 0]],
    );
  });

  test('a snapshot older than the stored one is refused', async () => {
    serve(publishedAt('09:00:00'));
    const outcome = await refresh();
    assert.equal(outcome.kind === 'refused' && outcome.reason, 'older');
    assert.equal(store.stats(now(), 3 * HOUR).relaysPublished, '2022-11-19T10:00:00.000Z');
  });

  test('a later snapshot that passes the guard is stored and ends the refusal', async () => {
    serve(publishedAt('10:30:00'));
    assert.equal((await refresh()).kind, 'updated');
    const stats = store.stats(now(), 3 * HOUR);
    assert.equal(stats.relaysPublished, '2022-11-19T10:30:00.000Z');
    assert.equal(stats.lastRefusal, undefined);
  });

  test('a snapshot without the US exits is refused (US 294 → 0, only 21% of all exits)', async () => {
    serve(publishedAt('11:00:00', withoutUsExits));
    const outcome = await refresh();
    assert.equal(outcome.kind === 'refused' && outcome.reason, 'exit_drop');
    assert.match(
      outcome.kind === 'refused' ? outcome.message : '',
      /has 0 eligible US exits, down from 294 \(more than 50% gone at once; TORFLEET_NODES_MAX_DROP\)/,
    );
    assert.equal(store.stats(now(), 3 * HOUR).exits.US, 294);
  });

  test('the operator accepts it: stored, and the refusal is over', async () => {
    serve(publishedAt('11:00:00', withoutUsExits));
    const outcome = await refresh(true);
    assert.equal(outcome.kind === 'updated' && outcome.overridden, 'exit_drop');
    const stats = store.stats(now(), 3 * HOUR);
    assert.deepEqual(stats.exits, { US: 0, NON_US: 1132 });
    assert.equal(stats.lastRefusal, undefined);
  });

  test('relays_published "2022-02-30 10:00:00" is not a date: the refresh fails, nothing changes', async () => {
    serve('{"relays_published": "2022-02-30 10:00:00", "relays": []}');
    await expectFailure(store, {}, /unreadable relays_published "2022-02-30 10:00:00"/);
  });
});

describe('consensus source (a Tor consensus + GeoIP file)', () => {
  test('from a file: the same eligible exits as Onionoo built from the same data', async () => {
    const store = freshStore();
    const source = createConsensusSource(sharedConsensusFile, sharedGeoIpFile);
    assert.equal((await refreshNodes({ source, store })).kind, 'updated');
    assert.deepEqual(store.stats(new Date(), HOUR).exits, SHARED_ELIGIBLE);
    assert.deepEqual(await refreshNodes({ source, store }), { kind: 'not_modified' });
    store.close();
  });

  test('from a directory port URL, with If-Modified-Since', async () => {
    const consensus = readFileSync(sharedConsensusFile);
    const seen: (string | undefined)[] = [];
    const dirPort = createServer((request, response) => {
      seen.push(request.headers['if-modified-since']);
      if (request.url !== '/tor/status-vote/current/consensus') return void response.writeHead(404).end();
      if (request.headers['if-modified-since']) return void response.writeHead(304).end();
      response
        .writeHead(200, { 'content-type': 'text/plain', 'last-modified': 'Sat, 19 Nov 2022 10:00:00 GMT' })
        .end(consensus);
    });
    await new Promise<void>((resolve) => dirPort.listen(0, '127.0.0.1', resolve));
    const { port } = dirPort.address() as AddressInfo;
    const store = freshStore();
    const source = createConsensusSource(`http://127.0.0.1:${port}/tor/status-vote/current/consensus`, sharedGeoIpFile);
    try {
      assert.equal((await refreshNodes({ source, store })).kind, 'updated');
      assert.equal((await refreshNodes({ source, store })).kind, 'not_modified');
      assert.deepEqual(seen, [undefined, 'Sat, 19 Nov 2022 10:00:00 GMT']);
      assert.equal(store.stats(new Date(), HOUR).relays, 6088);
    } finally {
      store.close();
      dirPort.closeAllConnections();
      await new Promise<void>((resolve) =>
        dirPort.close(() => {
          resolve();
        }),
      );
    }
  });

  test('a missing GeoIP file is a readable error', async () => {
    const store = freshStore();
    const source = createConsensusSource(sharedConsensusFile, '/nonexistent/geoip');
    await assert.rejects(
      refreshNodes({ source, store }),
      /cannot read the GeoIP file \(TORFLEET_GEOIP_FILE\) \/nonexistent\/geoip/,
    );
    assert.equal(store.recentRefreshes(1)[0]?.outcome, 'failed');
    store.close();
  });
});
