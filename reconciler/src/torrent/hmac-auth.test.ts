import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { signature, SignatureVerifier, type SignedRequest } from './hmac-auth.js';

const SECRET = Buffer.from('torrent-secret-for-tests');
const NOW = 1_796_246_345;
const BODY = Buffer.from('{"url":"http://127.0.0.1:8080/file.bin","route":"us-strict"}');

function signed(over: Partial<SignedRequest> = {}, at = NOW): SignedRequest {
  const timestamp = String(at);
  return {
    method: 'POST',
    path: '/v1/requests',
    timestamp,
    signature: signature(SECRET, 'POST', '/v1/requests', timestamp, BODY),
    body: BODY,
    ...over,
  };
}

describe('HMAC request signatures (the contract: METHOD\\nPATH\\nX-Timestamp\\nBODY)', () => {
  test('the signature is the documented HMAC: openssl computes the same', () => {
    const text = `POST\n/v1/requests\n${String(NOW)}\n${BODY.toString()}`;
    const openssl = execFileSync('openssl', ['dgst', '-sha256', '-hmac', SECRET.toString()], {
      input: text,
    }).toString();
    assert.equal(signature(SECRET, 'post', '/v1/requests', String(NOW), BODY), /([0-9a-f]{64})\s*$/.exec(openssl)?.[1]);
  });

  const CASES: ReadonlyArray<[string, Partial<SignedRequest>, number, string]> = [
    ['a correct signature', {}, NOW, 'ok'],
    ['upper-case hex', { signature: signed().signature?.toUpperCase() }, NOW, 'ok'],
    ['299 s early', {}, NOW + 299, 'ok'],
    ['no signature', { signature: undefined }, NOW, 'missing'],
    ['no timestamp', { timestamp: undefined }, NOW, 'missing'],
    ['a timestamp in ms', { timestamp: `${String(NOW)}000` }, NOW, 'bad_timestamp'],
    ['a timestamp that is not a number', { timestamp: '2026-12-02T10:00:00Z' }, NOW, 'bad_timestamp'],
    ['an old timestamp', {}, NOW + 301, 'stale'],
    ['a timestamp from the future', {}, NOW - 301, 'stale'],
    [
      'a changed body',
      { body: Buffer.from('{"url":"http://127.0.0.1:8080/other.bin","route":"us-strict"}') },
      NOW,
      'bad_signature',
    ],
    ['a changed path', { path: '/v1/requests?x=1' }, NOW, 'bad_signature'],
    ['a changed method', { method: 'PUT' }, NOW, 'bad_signature'],
    [
      'a wrong secret',
      { signature: signature(Buffer.from('other'), 'POST', '/v1/requests', String(NOW), BODY) },
      NOW,
      'bad_signature',
    ],
    ['a short signature', { signature: 'abcd' }, NOW, 'bad_signature'],
    ['a signature that is not hex', { signature: 'z'.repeat(64) }, NOW, 'bad_signature'],
  ];
  for (const [name, over, now, want] of CASES) {
    test(`${name}: ${want}`, () => {
      const verifier = new SignatureVerifier(SECRET, () => now);
      const result = verifier.check(signed(over));
      assert.equal(result.ok ? 'ok' : result.reason, want);
      if (!result.ok) assert.ok(!result.message.includes(SECRET.toString()), 'the message never holds the secret');
    });
  }

  test('the same signed request twice: the second is a replay; forgotten once it would be stale anyway', () => {
    let now = NOW;
    const verifier = new SignatureVerifier(SECRET, () => now);
    assert.deepEqual(verifier.check(signed()), { ok: true });
    assert.equal(verifier.check(signed()).ok ? 'ok' : 'refused', 'refused');
    const again = verifier.check(signed());
    assert.ok(!again.ok && again.reason === 'replayed');
    assert.deepEqual(verifier.check(signed({}, NOW + 1)), { ok: true }, 'signed anew: accepted');
    now = NOW + 601;
    const late = verifier.check(signed());
    assert.ok(!late.ok && late.reason === 'stale');
  });

  test('a GET signed once may be sent again within the window (polling a status); a DELETE may not', () => {
    const verifier = new SignatureVerifier(SECRET, () => NOW);
    const get = (method: string): SignedRequest => ({
      method,
      path: '/v1/requests/job_1',
      timestamp: String(NOW),
      signature: signature(SECRET, method, '/v1/requests/job_1', String(NOW), Buffer.alloc(0)),
      body: Buffer.alloc(0),
    });
    assert.deepEqual(verifier.check(get('GET')), { ok: true });
    assert.deepEqual(verifier.check(get('GET')), { ok: true });
    assert.deepEqual(verifier.check(get('DELETE')), { ok: true });
    const replayed = verifier.check(get('DELETE'));
    assert.ok(!replayed.ok && replayed.reason === 'replayed');
  });

  test('remembered signatures stay bounded', () => {
    const verifier = new SignatureVerifier(SECRET, () => NOW, 100);
    for (let i = 0; i < 1000; i++) {
      const body = Buffer.from(String(i));
      const timestamp = String(NOW);
      assert.deepEqual(
        verifier.check({
          method: 'POST',
          path: '/v1/requests',
          timestamp,
          body,
          signature: signature(SECRET, 'POST', '/v1/requests', timestamp, body),
        }),
        { ok: true },
      );
    }
  });
});
