import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { buildSpec } from '../plan/compute-plan.js';
import type { ProxySpec } from '../plan/plan-types.js';
import { TEST_TOR, testPool } from '../testing/fleet-fixtures.js';
import { EgressProber, parseEgressAddress } from './egress-probe.js';
import { dechunk } from './socks-fetch.js';

describe('parseEgressAddress', () => {
  const CASES: readonly [string, string | undefined][] = [
    ['{"IsTor":true,"IP":"185.220.101.4"}', '185.220.101.4'],
    ['{"ip": "2001:db8::7"}', '2001:db8::7'],
    ['203.0.113.9\n', '203.0.113.9'],
    ['{"IP": "not an address"}', undefined],
    ['<html>captive portal</html>', undefined],
    ['', undefined],
  ];
  for (const [body, expected] of CASES) {
    test(JSON.stringify(body), () => {
      assert.equal(parseEgressAddress(body), expected);
    });
  }
});

describe('dechunk', () => {
  test('joins the chunks of an HTTP/1.1 chunked body', () => {
    assert.equal(dechunk('13\r\n{"IP":"127.0.0.11"}\r\n0\r\n\r\n'), '{"IP":"127.0.0.11"}');
    assert.equal(dechunk('4\r\nab\r\n\r\n2\r\ncd\r\n0\r\n\r\n'), 'ab\r\ncd');
    assert.equal(dechunk(''), '');
  });
});

/**
 * A minimal SOCKS5 server on loopback that answers every CONNECT itself, as an HTTP server saying the request
 * came from `address` (or refuses the CONNECT with reply 5): enough to drive EgressProber through every result.
 * The real thing (tor) is exercised end to end in reconciler/src/e2e.
 */
async function fakeSocks(answer: { address: string } | 'refuse'): Promise<{ port: number; close: () => void }> {
  const body = answer === 'refuse' ? '' : JSON.stringify({ IP: answer.address });
  const server = createServer((socket) => {
    let stage = 0;
    socket.on('data', (chunk) => {
      if (stage === 0) {
        socket.write(Buffer.from([5, 0]));
        stage = 1;
      } else if (stage === 1) {
        if (answer === 'refuse') {
          socket.end(Buffer.from([5, 5, 0, 1, 0, 0, 0, 0, 0, 0]));
          return;
        }
        socket.write(Buffer.from([5, 0, 0, 1, 127, 0, 0, 1, 0, 80]));
        stage = 2;
      } else if (chunk.toString().includes('\r\n\r\n')) {
        socket.end(
          `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`,
        );
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, close: () => server.close() };
}

describe('EgressProber', () => {
  const spec = (port: number): ProxySpec =>
    buildSpec(
      testPool('p', { count: 1, basePort: port }),
      0,
      { fingerprints: ['A'.repeat(40)], addresses: ['198.51.100.1'], countries: ['US'], network: null },
      TEST_TOR,
      'd',
    );
  const prober = (): EgressProber =>
    new EgressProber({
      url: 'http://check.invalid/api/ip',
      timeoutMs: 2000,
      failuresToQuarantine: 2,
      quarantineMs: 60_000,
    });

  test('ok when traffic leaves from the pinned exit; mismatch when it does not', async () => {
    for (const [address, result] of [
      ['198.51.100.1', 'ok'],
      ['203.0.113.99', 'mismatch'],
    ] as const) {
      const socks = await fakeSocks({ address });
      const probe = prober();
      assert.equal(await probe.probe([spec(socks.port)]), false);
      assert.deepEqual([probe.check('p-0')?.result, probe.check('p-0')?.address], [result, address]);
      socks.close();
    }
  });

  test('two failed checks in a row set the pinned exit aside; nothing is set aside after one', async () => {
    const socks = await fakeSocks('refuse');
    const probe = prober();
    assert.equal(await probe.probe([spec(socks.port)]), false);
    assert.match(probe.check('p-0')?.message ?? '', /SOCKS reply 5 \(connection refused\)/);
    assert.equal(probe.quarantined().size, 0);
    assert.equal(await probe.probe([spec(socks.port)]), true);
    assert.deepEqual([...probe.quarantined()], ['A'.repeat(40)]);
    socks.close();
  });
});
