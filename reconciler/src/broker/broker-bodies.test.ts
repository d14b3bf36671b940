import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseFeedback, parseProxyRequest, type BodyProblem } from './broker-bodies.js';

const REQUEST = { exchange_id: 'binance', connection_type: 'websocket', region: 'US' };

describe('proxy request bodies', () => {
  test('accepted, with the optional fields', () => {
    assert.deepEqual(parseProxyRequest({ ...REQUEST, client_id: 'collector-3', metadata: { shard: 2 } }), {
      ok: true,
      value: {
        exchangeId: 'binance',
        connectionType: 'websocket',
        region: 'US',
        clientId: 'collector-3',
        metadata: { shard: 2 },
      },
    });
    assert.deepEqual(parseProxyRequest(REQUEST), {
      ok: true,
      value: { exchangeId: 'binance', connectionType: 'websocket', region: 'US', clientId: null, metadata: {} },
    });
  });

  const REFUSED: ReadonlyArray<[string, unknown, BodyProblem | { field: string; says: RegExp }]> = [
    ['not an object', [REQUEST], { field: '', message: 'must be a JSON object' }],
    ['null', null, { field: '', message: 'must be a JSON object' }],
    ['a string', 'US', { field: '', message: 'must be a JSON object' }],
    [
      'region missing',
      { exchange_id: 'x', connection_type: 'rest' },
      { field: 'region', message: 'missing: this body needs this field' },
    ],
    ['region a number', { ...REQUEST, region: 1 }, { field: 'region', says: /^must be string: US, NON_US/ }],
    ['region empty', { ...REQUEST, region: '' }, { field: 'region', says: /^US, NON_US, a country code/ }],
    ['region too long', { ...REQUEST, region: 'x'.repeat(65) }, { field: 'region', says: /^US, NON_US/ }],
    ['an unknown field', { ...REQUEST, regoin: 'US' }, { field: 'regoin', message: 'not a field of this body' }],
    [
      'exchange with a space',
      { ...REQUEST, exchange_id: 'bin ance' },
      { field: 'exchange_id', says: /letters, digits/ },
    ],
    [
      'connection type upper case',
      { ...REQUEST, connection_type: 'WS' },
      { field: 'connection_type', says: /websocket/ },
    ],
    ['metadata a list', { ...REQUEST, metadata: [] }, { field: 'metadata', says: /^must be object/ }],
    [
      'metadata too big',
      { ...REQUEST, metadata: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, i])) },
      { field: 'metadata', says: /at most 32 keys/ },
    ],
    [
      'a prototype key',
      JSON.parse('{"__proto__": {"region": "US"}}'),
      { field: 'exchange_id', message: 'missing: this body needs this field' },
    ],
  ];
  for (const [name, body, want] of REFUSED) {
    test(`refused: ${name}`, () => {
      const parsed = parseProxyRequest(body);
      if (parsed.ok) assert.fail(`accepted: ${JSON.stringify(parsed.value)}`);
      assertProblem(parsed.problem, want);
    });
  }
});

describe('feedback bodies', () => {
  test('one event: credentials cut from proxy_url and error_details; an ISO timestamp as ms', () => {
    const parsed = parseFeedback({
      proxy_url: 'socks5h://lease-77:x@127.0.0.1:19050',
      event: 'result',
      success: false,
      status_code: 403,
      latency_ms: 12.5,
      error_details: 'via socks5h://lease-77:x@127.0.0.1:19050 and http://u:p@10.0.0.1:3128/ refused',
      timestamp: '2026-12-02T10:00:00Z',
    });
    assert.deepEqual(parsed, {
      ok: true,
      value: [
        {
          leaseId: null,
          proxyId: null,
          proxyUrl: 'socks5h://127.0.0.1:19050',
          exchangeId: null,
          connectionType: null,
          event: 'result',
          success: false,
          latencyMs: 12.5,
          statusCode: 403,
          errorDetails: 'via socks5h://[redacted]@127.0.0.1:19050 and http://[redacted]@10.0.0.1:3128/ refused',
          timestamp: Date.parse('2026-12-02T10:00:00Z'),
          clientId: null,
        },
      ],
    });
    assert.doesNotMatch(JSON.stringify(parsed), /lease-77:x|u:p@/);
  });

  test('a batch', () => {
    const parsed = parseFeedback([
      { lease_id: 'l1', event: 'connect' },
      { proxy_id: 'us-strict-0', event: 'release', timestamp: 1_700_000_000_000 },
    ]);
    assert.ok(parsed.ok);
    assert.deepEqual(
      parsed.value.map((e) => [e.leaseId, e.proxyId, e.event, e.timestamp]),
      [
        ['l1', null, 'connect', null],
        [null, 'us-strict-0', 'release', 1_700_000_000_000],
      ],
    );
  });

  const REFUSED: ReadonlyArray<[string, unknown, BodyProblem | { field: string; says: RegExp }]> = [
    ['no proxy named', { event: 'result' }, { field: '', says: /give lease_id, proxy_id or proxy_url/ }],
    ['no event', { lease_id: 'l1' }, { field: 'event', message: 'missing: this body needs this field' }],
    ['an unknown event', { lease_id: 'l1', event: 'boom' }, { field: 'event', says: /^connect \/ release/ }],
    [
      'a status code out of range',
      { lease_id: 'l1', event: 'result', status_code: 99 },
      { field: 'status_code', says: /./ },
    ],
    [
      'a fractional status code',
      { lease_id: 'l1', event: 'result', status_code: 200.5 },
      { field: 'status_code', says: /integer/ },
    ],
    ['a negative latency', { lease_id: 'l1', event: 'result', latency_ms: -1 }, { field: 'latency_ms', says: /./ }],
    [
      'success as text',
      { lease_id: 'l1', event: 'result', success: 'yes' },
      { field: 'success', says: /^must be boolean/ },
    ],
    [
      'a bad time',
      { lease_id: 'l1', event: 'result', timestamp: 'yesterday' },
      { field: 'timestamp', says: /ISO 8601/ },
    ],
    [
      'a proxy_url that is no URL',
      { proxy_url: '127.0.0.1:19050', event: 'result' },
      { field: 'proxy_url', says: /not a URL/ },
    ],
    ['an empty batch', [], { field: '', says: /a batch holds 1 to 1000 events, not 0/ }],
    [
      'a batch too big',
      Array.from({ length: 1001 }, () => ({ lease_id: 'l', event: 'result' })),
      { field: '', says: /not 1001/ },
    ],
    [
      'the third event of a batch',
      [{ lease_id: 'a', event: 'result' }, { lease_id: 'b', event: 'result' }, { lease_id: 'c' }],
      { field: '[2].event', message: 'missing: this body needs this field' },
    ],
    [
      'a batch item that is no object',
      [{ lease_id: 'a', event: 'result' }, 7],
      { field: '[1]', message: 'must be a JSON object' },
    ],
  ];
  for (const [name, body, want] of REFUSED) {
    test(`refused: ${name}`, () => {
      const parsed = parseFeedback(body);
      if (parsed.ok) assert.fail(`accepted: ${JSON.stringify(parsed.value)}`);
      assertProblem(parsed.problem, want);
    });
  }
});

function assertProblem(got: BodyProblem, want: BodyProblem | { field: string; says: RegExp }): void {
  if ('says' in want) {
    assert.equal(got.field, want.field, JSON.stringify(got));
    assert.match(got.message, want.says);
  } else assert.deepEqual(got, want);
}
