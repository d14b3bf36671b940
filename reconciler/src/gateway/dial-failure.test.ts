import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dialFailureAnswer, SOCKS_REPLY } from './dial-failure.js';
import type { DialFailureReason } from './dial-types.js';

const TABLE: readonly [DialFailureReason | null, number, number][] = [
  ['no-member', 502, SOCKS_REPLY.networkUnreachable],
  ['refused', 502, SOCKS_REPLY.connectionRefused],
  ['timeout', 504, SOCKS_REPLY.ttlExpired],
  ['target-unreachable', 502, SOCKS_REPLY.hostUnreachable],
  ['upstream-auth', 502, SOCKS_REPLY.notAllowed],
  ['aborted', 503, SOCKS_REPLY.generalFailure],
  [null, 502, SOCKS_REPLY.generalFailure],
];

for (const [reason, status, reply] of TABLE) {
  test(`dial failure ${reason ?? '(not a DialError)'} → HTTP ${status}, SOCKS reply ${reply}`, () => {
    const answer = dialFailureAnswer(reason);
    assert.equal(answer.httpStatus, status);
    assert.equal(answer.socksReply, reply);
    assert.ok(answer.text.length > 10);
  });
}

test('upstream-auth says which credentials to check', () => {
  assert.match(dialFailureAnswer('upstream-auth').text, /credentials/);
});
