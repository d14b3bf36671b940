import assert from 'node:assert/strict';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { ProxyServiceClient } from './client.js';
import { BrokerError, ServiceUnavailableError } from './errors.js';
import { makeCerts, startFixture, CASES, type RunningFixture, type TestCerts } from './fixture.js';
import { Scope, waitFor } from './test-support.js';

/**
 * Settings read from files and the environment and followed while running (endpoints, token, CA), correlation ids,
 * and TLS against the fixture broker serving HTTPS with a certificate signed by a CA made with openssl.
 */
let scope: Scope;
beforeEach(() => {
  scope = new Scope({ timeout: 5 }); // the service answers here: no fallback wanted, even on a loaded machine
});
afterEach(() => scope.close());

let n = 0;
const next = (): { exchangeId: string; connectionType: string; region: string } => ({
  exchangeId: `e${String(++n)}`,
  connectionType: 'rest',
  region: 'US',
});

describe('endpoints followed while running', () => {
  test('an endpoints file replaced is followed; a broken one keeps the endpoints', async () => {
    const a = await scope.fixture({ port: 19001 });
    const b = await scope.fixture({ port: 19002 });
    const file = scope.file('urls', `# the brokers\n${a.url}  # a\n\n`);
    const client = scope.client(undefined, { endpointsFile: file, watchInterval: 0.1 });
    assert.match((await client.request(next())).proxyUrl ?? '', /:19001$/);
    writeFileSync(`${file}.new`, `${b.url}\n`);
    renameSync(`${file}.new`, file);
    assert.ok(await waitFor(async () => /:19002$/.test((await client.request(next())).proxyUrl ?? ''), 2));
    assert.equal(client.stats().endpointReloads, 1);
    writeFileSync(file, '# nothing usable\nftp://nowhere\n');
    assert.ok(await waitFor(() => client.stats().endpointReloadErrors >= 1, 2));
    assert.match((await client.request(next())).proxyUrl ?? '', /:19002$/, 'a broken file keeps the endpoints');
  });

  test('TORFLEET_BROKER_URLS changed is followed', async () => {
    const a = await scope.fixture({ port: 19001 });
    const b = await scope.fixture({ port: 19002 });
    const kept = process.env.TORFLEET_BROKER_URLS;
    process.env.TORFLEET_BROKER_URLS = a.url;
    scope.defer(() => {
      if (kept === undefined) delete process.env.TORFLEET_BROKER_URLS;
      else process.env.TORFLEET_BROKER_URLS = kept;
    });
    const client = scope.client(undefined, { watchInterval: 0.1 });
    assert.match((await client.request(next())).proxyUrl ?? '', /:19001$/);
    process.env.TORFLEET_BROKER_URLS = `${b.url},${a.url}`;
    assert.ok(await waitFor(async () => /:19002$/.test((await client.request(next())).proxyUrl ?? ''), 2));
    assert.deepEqual(
      client.stats().endpoints.map((endpoint) => endpoint.url),
      [b.url, a.url],
    );
  });

  test('no endpoints or no token is an error at construction', () => {
    assert.throws(() => new ProxyServiceClient({ endpoints: [], token: 't' }), /no broker endpoints/);
    assert.throws(() => new ProxyServiceClient({ endpoints: ['ftp://x'], token: 't' }), /want http/);
    assert.throws(() => new ProxyServiceClient({ endpoints: ['http://127.0.0.1:1'], token: '' }), /no broker token/);
  });
});

describe('the token and correlation ids', () => {
  test('a token file rotated is used within the watch interval', async () => {
    const fixture = await scope.fixture();
    const file = scope.file('token', 't-wrong\n');
    const client = scope.client([fixture.url], { token: undefined, tokenFile: file, watchInterval: 0.1 });
    await assert.rejects(
      client.request(next()),
      (error: unknown) => error instanceof BrokerError && error.status === 401,
    );
    writeFileSync(file, 't-collector\n');
    assert.ok(await waitFor(async () => (await client.request(next()).catch(() => null))?.source === 'service', 2));
    assert.equal(client.stats().tokenReloads, 1);
    writeFileSync(file, '');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal((await client.request(next())).source, 'service', 'an empty file keeps the token');
  });

  test('X-Request-Id: the one given, else ts-XXXXXXXX-N; echoed in the lease', async () => {
    const fixture = await scope.fixture();
    const client = scope.client([fixture.url]);
    assert.equal((await client.request({ ...next(), requestId: 'collector-42' })).requestId, 'collector-42');
    const first = (await client.request(next())).requestId ?? '';
    const second = (await client.request(next())).requestId ?? '';
    assert.match(first, /^ts-[0-9a-f]{8}-\d+$/);
    assert.notEqual(first, second);
    assert.equal(first.slice(0, 12), second.slice(0, 12), 'one prefix per client');
  });
});

describe('TLS', () => {
  let certs: TestCerts;
  let other: TestCerts;
  let fixture: RunningFixture;
  before(async () => {
    certs = makeCerts();
    other = makeCerts();
    fixture = await startFixture('basic', { tls: certs, file: CASES });
  });
  after(async () => {
    await fixture.stop();
    certs.remove();
    other.remove();
  });

  test('verified with the CA file', async () => {
    assert.match(fixture.url, /^https:\/\/127\.0\.0\.1:/);
    const client = scope.client([fixture.url], { caFile: certs.ca });
    const lease = await client.request(next());
    assert.equal(lease.source, 'service');
    assert.match(lease.proxyUrl ?? '', /^socks5h:\/\/lease_/);
    const health = (await client.health()) as { proxies: unknown[] };
    assert.equal(health.proxies.length, 5);
  });

  test('refused without the CA file, or with another CA', async () => {
    for (const options of [{}, { caFile: other.ca }]) {
      const client = scope.client([fixture.url], { ...options, fallback: null });
      const error = await client.request(next()).catch((e: unknown) => e);
      assert.ok(error instanceof ServiceUnavailableError);
      assert.match(error.message, /TLS: /);
    }
  });

  test('a CA file changed is re-read: new connections verify against it', async () => {
    const file = scope.file('ca.pem', '');
    writeFileSync(file, readFileSync(other.ca));
    const client = scope.client([fixture.url], { caFile: file, watchInterval: 0.1, fallback: null });
    await assert.rejects(client.request(next()), ServiceUnavailableError);
    writeFileSync(file, 'not a certificate');
    assert.ok(await waitFor(() => client.stats().endpointReloadErrors >= 1, 2), 'a broken CA file is refused');
    writeFileSync(file, readFileSync(certs.ca));
    assert.ok(await waitFor(() => client.stats().caReloads === 1, 2));
    assert.ok(await waitFor(async () => (await client.request(next()).catch(() => null))?.source === 'service', 3));
  });
});
