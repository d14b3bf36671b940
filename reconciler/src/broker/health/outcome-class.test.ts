import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { outcomeClass, type FeedbackEvent, type OutcomeClass } from './outcome-class.js';

describe('outcome-class: the mapping table, first matching row wins', () => {
  const cases: [FeedbackEvent, boolean | null, number | null, OutcomeClass, string][] = [
    ['result', false, 401, 'target_block', '401: the target refuses this proxy'],
    ['result', false, 403, 'target_block', '403'],
    ['result', false, 429, 'target_block', '429'],
    ['result', true, 429, 'target_block', 'a block reported as a success is still a block'],
    ['connect', false, 403, 'target_block', 'a websocket handshake refused with 403'],
    ['timeout', null, 403, 'target_block', 'a block beats the timeout row'],
    ['release', null, 429, 'target_block', 'a block on release'],
    ['timeout', null, null, 'proxy_fault', 'a timeout'],
    ['timeout', true, 200, 'proxy_fault', 'a timeout whatever else it says'],
    ['timeout', false, 500, 'proxy_fault', 'a timeout with a 5xx'],
    ['result', true, 200, 'success', 'a success'],
    ['result', true, null, 'success', 'a success without a status'],
    ['result', true, 404, 'success', 'the client says success: a 404 it expected'],
    ['connect', true, null, 'success', 'a websocket connected'],
    ['result', null, 204, 'success', 'no success field: read from the status'],
    ['result', null, 302, 'success', 'a redirect is an answer'],
    ['result', false, null, 'proxy_fault', 'refused, reset, SOCKS error: no answer came back'],
    ['connect', false, null, 'proxy_fault', 'a websocket that could not connect'],
    ['release', false, null, 'proxy_fault', 'a connection that died with an error'],
    ['result', false, 500, 'target_failure', 'the target answered 500: the proxy carried it'],
    ['result', false, 404, 'target_failure', 'a 404 the client did not expect'],
    ['result', null, 503, 'target_failure', 'no success field, a 503'],
    ['result', null, 400, 'target_failure', 'no success field: 400 and above are failures'],
    ['result', null, 399, 'success', 'no success field: below 400 is a success'],
    ['release', false, 502, 'target_failure', 'release with a status'],
    ['release', true, null, 'none', 'a release closes a connection, nothing to judge'],
    ['release', null, null, 'none', 'a bare release'],
    ['release', null, 200, 'none', 'a release with a 2xx'],
    ['result', null, null, 'none', 'a result that says nothing'],
    ['connect', null, null, 'none', 'a connect that says nothing'],
  ];
  for (const [event, success, statusCode, expected, name] of cases) {
    test(`${name}: ${event}, success ${String(success)}, status ${String(statusCode)} → ${expected}`, () => {
      assert.equal(outcomeClass({ event, success, statusCode }), expected);
    });
  }
});
