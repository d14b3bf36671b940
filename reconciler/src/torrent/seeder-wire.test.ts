import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MAX_MESSAGE_LENGTH, SeederWire } from './seeder-wire.js';

const HANDSHAKE = Buffer.concat([
  Buffer.from('\x13BitTorrent protocol', 'latin1'),
  Buffer.alloc(8),
  Buffer.alloc(20, 1),
  Buffer.alloc(20, 2),
]);

function wire(peEnabled: 0 | 1): { wire: SeederWire; fatal: string[] } {
  const fatal: string[] = [];
  const w = new SeederWire('tcpIncoming', peEnabled, (reason) => fatal.push(reason));
  return { wire: w, fatal };
}

const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20));

describe('the guarded wire', () => {
  test('an MSE/PE key the DH computation rejects is fatal, not an exception out of write()', async () => {
    // Unguarded, bittorrent-protocol 5.0.9 throws ERR_CRYPTO_INVALID_KEYLEN from write(): an uncaught exception.
    const { wire: w, fatal } = wire(1);
    w.write(Buffer.alloc(96, 0));
    await settle();
    assert.equal(fatal.length, 1);
    assert.match(fatal[0] ?? '', /key/i);
    w.write(Buffer.alloc(100, 7)); // read no further
    await settle();
    assert.equal(fatal.length, 1);
  });

  test('a length prefix past the limit is fatal (the package would buffer up to 2 GiB)', async () => {
    const { wire: w, fatal } = wire(0);
    const handshakes: string[] = [];
    w.on('handshake', (infoHash) => handshakes.push(infoHash));
    w.write(HANDSHAKE);
    await settle();
    assert.deepEqual(handshakes, ['01'.repeat(20)]);
    const prefix = Buffer.alloc(4);
    prefix.writeUInt32BE(MAX_MESSAGE_LENGTH + 1);
    w.write(prefix);
    await settle();
    assert.deepEqual(fatal, [
      `message of ${String(MAX_MESSAGE_LENGTH + 1)} bytes, more than ${String(MAX_MESSAGE_LENGTH)}`,
    ]);
  });

  test('a length prefix of 2^32 - 1 (negative in the package) is fatal too', async () => {
    const { wire: w, fatal } = wire(0);
    w.write(HANDSHAKE);
    w.write(Buffer.from([0xff, 0xff, 0xff, 0xff]));
    await settle();
    assert.equal(fatal.length, 1);
  });

  test('a message at the limit passes', async () => {
    const { wire: w, fatal } = wire(0);
    w.on('error', () => undefined);
    w.write(HANDSHAKE);
    const message = Buffer.alloc(4 + MAX_MESSAGE_LENGTH);
    message.writeUInt32BE(MAX_MESSAGE_LENGTH);
    message[4] = 99; // an unknown message id: ignored
    w.write(message);
    await settle();
    assert.deepEqual(fatal, []);
  });
});
