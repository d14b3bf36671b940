import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ProxyServiceClient } from './client.js';
import { loadSuites, mismatch, runCase, valueAt, withSaved } from './conformance.js';
import { CASES, FIXTURE_BROKER, makeCerts, startFixture, type RunningFixture, type TestCerts } from './fixture.js';

/**
 * Every case of clients/conformance/cases.json (all suites) against the real fixture broker through this client's
 * own transport; suite `basic` twice: over HTTP and over HTTPS verified with a CA file made by openssl.
 */
const suites = loadSuites(CASES);
let certs: TestCerts | undefined;
after(() => certs?.remove());

for (const suite of suites) {
  for (const tls of suite.name === 'basic' ? [false, true] : [false]) {
    describe(`conformance suite ${suite.name}${tls ? ' over TLS' : ''} through the TypeScript client`, () => {
      let fixture: RunningFixture;
      let client: ProxyServiceClient;
      before(async () => {
        if (tls) certs ??= makeCerts();
        fixture = await startFixture(suite.name, tls && certs ? { tls: certs } : {});
        assert.equal(fixture.url.startsWith(tls ? 'https://' : 'http://'), true, fixture.url);
        client = new ProxyServiceClient({
          endpoints: [fixture.url],
          token: 't-unused',
          ...(tls && certs ? { caFile: certs.ca } : {}),
        });
      });
      after(async () => {
        await client.close(0.5);
        await fixture.stop();
      });
      for (const entry of suite.cases) {
        test(entry.name, async () => {
          assert.deepEqual(await runCase(client, entry), []);
        });
      }
    });
  }
}

describe('the conformance runner itself', () => {
  test('MATCH operators', () => {
    const saved = new Map<string, unknown>([['lease', 'l-1']]);
    assert.equal(mismatch({ a: { $saved: 'lease' }, b: { $absent: true } }, { a: 'l-1', c: 1 }, saved, 'b'), null);
    assert.notEqual(mismatch({ a: 1 }, { a: true }, saved, 'b'), null);
    assert.notEqual(mismatch([1], [1, 2], saved, 'b'), null);
    assert.notEqual(mismatch({ a: { $not_saved: 'lease' } }, { a: 'l-1' }, saved, 'b'), null);
    assert.equal(mismatch({ n: { $type: 'integer' }, l: { $length: 2 } }, { n: 3, l: [0, 0] }, saved, 'b'), null);
    assert.notEqual(mismatch({ n: { $type: 'integer' } }, { n: 3.5 }, saved, 'b'), null);
    assert.equal(mismatch({ s: { $match: '^req_' } }, { s: 'req_1' }, saved, 'b'), null);
    assert.equal(mismatch({ o: { $one_of: [{ x: 1 }, 2] } }, { o: { x: 1 } }, saved, 'b'), null);
    assert.notEqual(mismatch({ o: { x: 1 } }, { o: [] }, saved, 'b'), null);
    assert.notEqual(mismatch({ a: { $absent: true } }, { a: null }, saved, 'b'), null);
  });

  test('$saved is replaced anywhere in a body; dotted paths are read', () => {
    const saved = new Map<string, unknown>([['lease', 'l-1']]);
    assert.deepEqual(withSaved([{ lease_id: { $saved: 'lease' }, n: [{ $saved: 'lease' }] }], saved), [
      { lease_id: 'l-1', n: ['l-1'] },
    ]);
    assert.equal(valueAt({ metadata: { lease_id: 'x' } }, 'metadata.lease_id'), 'x');
    assert.equal(valueAt({ metadata: null }, 'metadata.lease_id'), undefined);
  });

  test('a missing fixture broker fails, never skips', async () => {
    await assert.rejects(
      startFixture('basic', { broker: `${FIXTURE_BROKER}.missing` }),
      /missing: run `npm run build`/,
    );
  });
});
