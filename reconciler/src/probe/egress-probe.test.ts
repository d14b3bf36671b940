import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildSpec } from '../plan/compute-plan.js';
import type { ProxySpec } from '../plan/plan-types.js';
import { TEST_TOR, testPool } from '../testing/fleet-fixtures.js';
import { tempDir } from '../testing/temp-dir.js';
import { waitFor } from '../wait-for.js';
import { diagnoseTor, remoteDiagnosis } from './egress-diagnosis.js';
import { EgressProber, parseEgressAddress, retryDelayMs, type ProbeOptions } from './egress-probe.js';
import { remoteTorWords } from './proxy-health.js';
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
async function fakeSocks(
  answer: { address: string } | 'refuse',
  host = '127.0.0.1',
): Promise<{ port: number; close: () => void }> {
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
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return { port: (server.address() as AddressInfo).port, close: () => server.close() };
}

const FP = 'A'.repeat(40);
const spec = (port: number, fingerprint = FP): ProxySpec =>
  buildSpec(
    testPool('p', { count: 1, basePort: port }),
    0,
    { fingerprints: [fingerprint], addresses: ['198.51.100.1'], countries: ['US'], network: null },
    TEST_TOR,
    'd',
  );

/** A prober on a clock the test moves: interval 60 s, first retry after 10 s. */
function clockedProber(over: Partial<ProbeOptions> = {}): { probe: EgressProber; advance: (ms: number) => void } {
  let now = Date.parse('2026-12-01T00:00:00.000Z');
  const probe = new EgressProber({
    url: 'http://check.invalid/api/ip',
    timeoutMs: 2000,
    intervalMs: 60_000,
    retryBaseMs: 10_000,
    failuresToQuarantine: 2,
    quarantineMs: 30 * 60_000,
    now: () => new Date(now),
    ...over,
  });
  return { probe, advance: (ms) => (now += ms) };
}

describe('retryDelayMs: backoff after failed checks', () => {
  const CASES: readonly [failures: number, delay: number][] = [
    [0, 60_000],
    [1, 10_000],
    [2, 20_000],
    [3, 40_000],
    [4, 60_000],
    [50, 60_000],
  ];
  for (const [failures, delay] of CASES) {
    test(`${failures} failures: ${delay} ms`, () => {
      assert.equal(retryDelayMs(failures, 10_000, 60_000), delay);
    });
  }
});

describe('EgressProber', () => {
  test('a proxy on another swarm node is dialled at its node address, one here on loopback', async () => {
    // The "node" listens on 127.0.0.2 only: a dial of 127.0.0.1 (this host) finds nothing there.
    const node = await fakeSocks({ address: '198.51.100.1' }, '127.0.0.2');
    const everywhere = (port: number): ProxySpec => ({ ...spec(port), bind: '0.0.0.0' });
    const remote = clockedProber({ nodeAddress: (proxy) => (proxy === 'p-0' ? '127.0.0.2' : null) });
    const here = clockedProber();
    const [there, local] = await Promise.all([
      remote.probe.probe([everywhere(node.port)]),
      here.probe.probe([everywhere(node.port)]),
    ]);
    node.close();
    assert.deepEqual(
      there.checked.map(({ check }) => [check.result, check.address]),
      [['ok', '198.51.100.1']],
    );
    assert.equal(local.checked[0]?.check.result, 'failed');
  });

  test('a proxy on another node that fails never blames its exit: its tor cannot be asked from here', async () => {
    const socks = await fakeSocks('refuse');
    const { probe, advance } = clockedProber({
      diagnose: () => Promise.resolve(remoteDiagnosis(remoteTorWords('eu-2', '10.0.0.6'))),
    });
    for (let i = 0; i < 4; i++) {
      const { quarantineChanged } = await probe.probe([spec(socks.port)]);
      assert.equal(quarantineChanged, false);
      advance(120_000);
    }
    socks.close();
    assert.equal(probe.quarantined().size, 0);
    assert.match(probe.check('p-0')?.message ?? '', /swarm node eu-2 \(10\.0\.0\.6\).*\(the exit is not blamed\)/);
  });

  test('ok when traffic leaves from the pinned exit; mismatch when it does not', async () => {
    for (const [address, result, healthy] of [
      ['198.51.100.1', 'ok', true],
      ['203.0.113.99', 'mismatch', false],
    ] as const) {
      const socks = await fakeSocks({ address });
      const { probe } = clockedProber();
      const { checked, quarantineChanged } = await probe.probe([spec(socks.port)]);
      assert.equal(quarantineChanged, false);
      assert.deepEqual(
        checked.map(({ proxy, check }) => [proxy, check.result, check.address, check.healthy]),
        [['p-0', result, address, healthy]],
      );
      socks.close();
    }
  });

  test('a failed check is retried with a doubling backoff, not only after the next interval', async () => {
    const socks = await fakeSocks('refuse');
    const { probe, advance } = clockedProber();
    const proxy = spec(socks.port);
    await probe.probe([proxy]);
    assert.deepEqual(
      [probe.check('p-0')?.healthy, probe.check('p-0')?.consecutiveFailures, probe.check('p-0')?.nextCheckAt],
      [false, 1, '2026-12-01T00:00:10.000Z'],
    );
    advance(9_000);
    assert.deepEqual((await probe.probe([proxy])).checked, [], 'not due yet');
    advance(1_000);
    assert.equal((await probe.probe([proxy])).checked.length, 1);
    assert.deepEqual(
      [probe.check('p-0')?.consecutiveFailures, probe.check('p-0')?.nextCheckAt],
      [2, '2026-12-01T00:00:30.000Z'],
    );
    socks.close();
  });

  test('two failed checks in a row avoid the pinned exit; a passing check lifts it and the proxy is healthy', async () => {
    const refusing = await fakeSocks('refuse');
    const { probe, advance } = clockedProber();
    assert.equal((await probe.probe([spec(refusing.port)])).quarantineChanged, false);
    assert.match(probe.check('p-0')?.message ?? '', /SOCKS reply 5 \(connection refused\)/);
    assert.equal(probe.quarantined().size, 0);
    advance(10_000);
    assert.equal((await probe.probe([spec(refusing.port)])).quarantineChanged, true);
    assert.deepEqual([...probe.quarantined()], [FP]);
    refusing.close();

    const answering = await fakeSocks({ address: '198.51.100.1' });
    advance(20_000);
    // Same spec hash as before (the port is part of it): keep the port by re-pinning nothing.
    const back = await probe.probe([{ ...spec(refusing.port), port: answering.port }]);
    assert.equal(back.quarantineChanged, true);
    assert.deepEqual(
      [probe.check('p-0')?.result, probe.check('p-0')?.healthy, probe.check('p-0')?.consecutiveFailures],
      ['ok', true, 0],
    );
    assert.equal(probe.quarantined().size, 0);
    answering.close();
  });

  test('a changed spec (re-pinned) is checked at once and starts afresh', async () => {
    const socks = await fakeSocks('refuse');
    const { probe } = clockedProber();
    await probe.probe([spec(socks.port)]);
    const repinned = spec(socks.port, 'B'.repeat(40));
    assert.equal((await probe.probe([repinned])).checked.length, 1);
    assert.equal(probe.check('p-0')?.consecutiveFailures, 1);
    assert.equal(probe.quarantined().size, 0);
    socks.close();
  });
});

/**
 * A real tor with DisableNetwork 1, as a proxy that never finished bootstrapping: its SOCKS port answers,
 * but no circuit can be built. Its diagnosis comes from its ControlSocket and its notice log, as torfleet's
 * template writes them.
 */
describe('EgressProber with a tor that has not bootstrapped', () => {
  const PORT = 31700; // this file's own port block: 31700-31709
  const dir = tempDir('probe-tor');
  const data = path.join(dir, 'data');
  let tor: ChildProcess;
  before(async () => {
    mkdirSync(data, { mode: 0o700 });
    writeFileSync(
      path.join(dir, 'torrc'),
      [
        `SocksPort 127.0.0.1:${PORT}`,
        `DataDirectory ${data}`,
        `ControlSocket ${data}/control`,
        'CookieAuthentication 1',
        `Log notice file ${data}/notice.log`,
        'DisableNetwork 1',
        'GeoIPFile ""',
        'GeoIPv6File ""',
        '',
      ].join('\n'),
    );
    tor = spawn('tor', ['-f', path.join(dir, 'torrc'), '--defaults-torrc', '/dev/null'], { stdio: 'ignore' });
    await waitFor(
      'the control socket and cookie',
      () => existsSync(path.join(data, 'control')) && existsSync(path.join(data, 'control_auth_cookie')),
    );
  });
  after(() => {
    tor.kill('SIGKILL');
  });

  test('failed checks show its bootstrap state and log tail, and never set its exit aside', async () => {
    const { probe, advance } = clockedProber({ timeoutMs: 1500, diagnose: () => diagnoseTor(data) });
    for (let i = 1; i <= 3; i++) {
      assert.equal((await probe.probe([spec(PORT)])).quarantineChanged, false, `check ${i}`);
      advance(60_000);
    }
    const check = probe.check('p-0');
    assert.ok(check?.diagnosis);
    assert.deepEqual([check.result, check.healthy, check.consecutiveFailures], ['failed', false, 3]);
    assert.equal(probe.quarantined().size, 0, 'a tor that has not bootstrapped says nothing about its exit');
    assert.equal(check.diagnosis.bootstrap?.bootstrapProgress, 0);
    assert.match(check.message, /bootstrapped 0% \(starting: Starting\) \(the exit is not blamed\)$/);
    const tail = check.diagnosis.logTail;
    assert.ok(tail.length > 0 && tail.length <= 20, `log tail of ${tail.length} lines`);
    assert.ok(
      tail.some((line) => /\[notice\]/.test(line)),
      tail.join('\n'),
    );
  });
});
