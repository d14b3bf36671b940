import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import bencode from 'bencode';
import { compactPeers, encodeAnnounceAnswer, ipv6Bytes } from './tracker-response.js';

describe('tracker answers', () => {
  test('compact peers (BEP 23): 4 address bytes then the port big endian; IPv6 apart (BEP 7)', () => {
    const { v4, v6 } = compactPeers([
      { ip: '127.0.0.1', port: 6881, peerId: null, seeding: true },
      { ip: '10.1.2.3', port: 0x1234, peerId: null, seeding: false },
      { ip: '::1', port: 80, peerId: null, seeding: false },
    ]);
    assert.equal(v4.toString('hex'), '7f0000011ae1' + '0a0102031234');
    assert.equal(v6.toString('hex'), '00000000000000000000000000000001' + '0050');
  });

  test('IPv6 addresses to 16 bytes', () => {
    assert.equal(ipv6Bytes('2001:db8::8a2e:370:7334').toString('hex'), '20010db80000000000008a2e03707334');
    assert.equal(ipv6Bytes('::').toString('hex'), '0'.repeat(32));
    assert.equal(ipv6Bytes('fe80::1%eth0').toString('hex'), 'fe800000000000000000000000000001');
    assert.equal(ipv6Bytes('::ffff:1.2.3.4').toString('hex'), '00000000000000000000ffff01020304');
    assert.equal(ipv6Bytes('1:2:3:4:5:6:7:8').toString('hex'), '00010002000300040005000600070008');
  });

  test('a compact and a dictionary answer', () => {
    const peers = [{ ip: '10.0.0.1', port: 1, peerId: Buffer.alloc(20, 7), seeding: false }];
    const compact = bencode.decode(
      encodeAnnounceAnswer({ intervalSeconds: 600, complete: 1, incomplete: 2, peers, compact: true, noPeerId: false }),
    ) as Record<string, unknown>;
    assert.equal(compact.interval, 600);
    assert.equal(compact['min interval'], 300);
    assert.equal(compact.complete, 1);
    assert.equal(compact.incomplete, 2);
    assert.equal(Buffer.from(compact.peers as Uint8Array).toString('hex'), '0a0000010001');
    assert.equal(compact.peers6, undefined);
    const dict = bencode.decode(
      encodeAnnounceAnswer({
        intervalSeconds: 600,
        complete: 1,
        incomplete: 2,
        peers,
        compact: false,
        noPeerId: false,
      }),
    ) as { peers: { ip: Uint8Array; port: number; 'peer id'?: Uint8Array }[] };
    assert.equal(dict.peers.length, 1);
    const [first] = dict.peers;
    assert.ok(first?.['peer id']);
    assert.equal(Buffer.from(first.ip).toString(), '10.0.0.1');
    assert.equal(first.port, 1);
    assert.deepEqual(Buffer.from(first['peer id']), Buffer.alloc(20, 7));
  });
});
