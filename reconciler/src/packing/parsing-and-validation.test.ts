import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Registry } from 'prom-client';
import { validatePackedProxies, type PackedProxy } from './packed-proxy.js';
import { registerPackingMetrics } from './packing-metrics.js';
import { familyOf, parseNetworkStatus } from './relay-list.js';
import { socksPortCommand } from './socks-ports.js';
import { parseTorEvent } from './tor-events.js';

const FP = '44DFC873C570491B90E768844739490A2544D931';

describe('what tor says, read; what reaches tor, checked', () => {
  test('STREAM, CIRC and CONF_CHANGED events (lines as tor 0.4.9 sends them)', () => {
    const stream = parseTorEvent([
      'STREAM 13 NEW 0 127.0.0.1:31330 SOURCE_ADDR=127.0.0.1:34968 PURPOSE=USER CLIENT_PROTOCOL=SOCKS5 ' +
        'SOCKS_USERNAME="le\\"ase a" SOCKS_PASSWORD="p\\134w" NYM_EPOCH=0 SESSION_GROUP=7 ISO_FIELDS=SOCKS_USERNAME',
    ]);
    assert.deepEqual(stream, {
      kind: 'stream',
      streamId: '13',
      status: 'NEW',
      circuitId: '0',
      target: '127.0.0.1:31330',
      purpose: 'USER',
      sessionGroup: 7,
      socksUsername: 'le"ase a',
      socksPassword: 'p\\w',
      reason: null,
    });
    const circuit = parseTorEvent([
      `CIRC 3 BUILT $${FP}~auth1,$${FP.replace('4', '5')}=mid PURPOSE=CONTROLLER TIME_CREATED=2026-12-03T08:39:04.245621`,
    ]);
    assert.equal(circuit?.kind === 'circuit' && circuit.path.length, 2);
    const closed = parseTorEvent(['CIRC 9 CLOSED PURPOSE=CONTROLLER REASON=DESTROYED REMOTE_REASON=CHANNEL_CLOSED']);
    assert.deepEqual(closed?.kind === 'circuit' && [closed.path, closed.reason, closed.remoteReason], [
      [],
      'DESTROYED',
      'CHANNEL_CLOSED',
    ]);
    const conf = parseTorEvent(['CONF_CHANGED', 'MaxCircuitDirtiness=10', 'SocksPortLines', 'OK']);
    assert.equal(conf?.kind === 'conf' && conf.settings.get('MaxCircuitDirtiness'), '10');
    for (const garbage of [
      '',
      'STREAM x NEW 0 a',
      'CIRC 1 BUILT $nothex',
      'STREAM 1 NEW 0 t SOCKS_USERNAME="open',
      'HS_DESC 1',
    ]) {
      const event = parseTorEvent([garbage]);
      assert.ok(event === null || (event.kind === 'stream' && event.socksUsername === null), JSON.stringify(garbage));
    }
  });

  test('ns/all and microdescriptor families', () => {
    const relays = parseNetworkStatus([
      'r exitus RN/Ic8VwSRuQ52iERzlJCiVE2TE BeDtfBjxQzSUb9yjYYwbkHmT60Y 2038-01-01 00:00:00 127.0.0.11 31305 0',
      's Exit Fast Guard HSDir Running Stable V2Dir Valid',
      'w Bandwidth=70',
      'r broken !!! x 2038-01-01 00:00:00 127.0.0.1 1 0',
      's Running',
      'r auth1 BNd17B9bkNxJDANmJKlR95lyEzI JL24k3KHeWUW9I8M2/sIzM1MsAo 2038-01-01 00:00:00 127.0.0.1 31301 31311',
    ]);
    assert.deepEqual(
      relays.map((r) => [r.nickname, r.fingerprint, r.address, r.orPort, r.bandwidth, r.flags.has('Exit')]),
      [
        ['exitus', FP, '127.0.0.11', 31305, 70, true],
        ['auth1', '04D775EC1F5B90DC490C036624A951F799721332', '127.0.0.1', 31301, 1, false],
      ],
    );
    assert.deepEqual(
      [...familyOf(['onion-key', `family $${FP.toLowerCase()}~x $${FP.replace('4', '6')} nick`])],
      [FP, FP.replace('4', '6')],
    );
  });

  const proxy = (change: Partial<Record<keyof PackedProxy, unknown>> = {}): PackedProxy =>
    ({
      name: 'pool-0',
      sessionGroup: 0,
      listen: '127.0.0.1:9050',
      exits: [FP],
      rotateEverySeconds: null,
      ...change,
    }) as PackedProxy;

  test('bad proxies are refused with what to fix', () => {
    const cases: [PackedProxy[], RegExp][] = [
      [[proxy({ name: 'a b' })], /a name is 1-128 letters/],
      [[proxy(), proxy({ listen: '127.0.0.1:9051' })], /the name is given twice/],
      [[proxy(), proxy({ name: 'pool-1', listen: '127.0.0.1:9051' })], /sessionGroup 0 is also pool-0's/],
      [[proxy({ sessionGroup: -1 })], /sessionGroup must be an integer/],
      [[proxy({ listen: '127.0.0.1:9050 SessionGroup=3' })], /listen must be an IP literal and a port/],
      [[proxy({ listen: '[::1]:0' })], /listen must be/],
      [[proxy({ listen: 'localhost:9050' })], /listen must be/],
      [[proxy(), proxy({ name: 'pool-1', sessionGroup: 1 })], /listen 127.0.0.1:9050 is also pool-0's/],
      [[proxy({ exits: [] })], /at least one exit/],
      [[proxy({ exits: [FP.toLowerCase()] })], /40 upper-case hex digits/],
      [[proxy({ rotateEverySeconds: 0 })], /rotateEverySeconds must be a positive integer/],
    ];
    for (const [proxies, message] of cases)
      assert.throws(() => {
        validatePackedProxies(proxies);
      }, message);
    validatePackedProxies([proxy(), proxy({ name: 'pool-1', sessionGroup: 1, listen: '[::1]:9050' })]);
  });

  test('the SocksPort SETCONF: one quoted value per port, by session group; none is SocksPort=0, never the default', () => {
    assert.equal(
      socksPortCommand([
        { listen: '[::1]:9051', sessionGroup: 1 },
        { listen: '127.0.0.1:9050', sessionGroup: 0 },
      ]),
      'SETCONF SocksPort="127.0.0.1:9050 SessionGroup=0 IsolateSOCKSAuth" SocksPort="[::1]:9051 SessionGroup=1 IsolateSOCKSAuth"',
    );
    assert.equal(socksPortCommand([]), 'SETCONF SocksPort=0');
    assert.throws(
      () => socksPortCommand([{ listen: '1.2.3.4:1" ControlPort="9', sessionGroup: 0 }]),
      /not a SocksPort/,
    );
  });

  test('metrics by pool, every series from 0', async () => {
    const registry = new Registry();
    const events = registerPackingMetrics(registry, ['web']);
    events.circuitBuilt('web-12', 0.2);
    events.streamAttached('web-3', 0.001);
    events.streamRefused(null, 'unknown session group');
    const text = await registry.metrics();
    assert.match(text, /torfleet_packed_circuits_built_total\{pool="web"\} 1/);
    assert.match(text, /torfleet_packed_circuits_failed_total\{pool="web"\} 0/);
    assert.match(text, /torfleet_packed_circuits_renewed_total\{pool="web"\} 0/);
    assert.match(text, /torfleet_packed_streams_refused_total\{pool="unknown"\} 1/);
    assert.match(text, /torfleet_packed_attach_duration_seconds_count\{pool="web"\} 1/);
    assert.match(text, /torfleet_packed_circuit_build_duration_seconds_count\{pool="web"\} 1/);
  });
});
