import assert from 'node:assert/strict';
import { createServer as createHttpServer } from 'node:http';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { test } from 'node:test';
import { exchangeOver, type ExchangeEnd, type MemberRequest } from './member-exchange.js';
import type { MemberConnection } from './member-slot.js';

/** node's client path (a request with a body): what leanExchange's tests check for the bodiless one. */
test(
  'an exchange with a body begun after the client left (while the member was dialed) ends at once',
  { timeout: 10_000 },
  async () => {
    const member = createServer((socket) => {
      socket.on('error', () => undefined);
      socket.once('data', () =>
        socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${8 << 20}\r\n\r\n${'x'.repeat(8 << 20)}`),
      );
    });
    await new Promise<void>((resolve) => member.listen(0, '127.0.0.1', resolve));
    const sockets: Socket[] = [];
    let exchange: Promise<ExchangeEnd> | null = null;
    let begun: () => void = () => undefined;
    const started = new Promise<void>((resolve) => (begun = resolve));
    const front = createHttpServer((req, res) => {
      res.once('close', () => {
        const socket = connect((member.address() as AddressInfo).port, '127.0.0.1');
        socket.on('error', () => undefined);
        sockets.push(socket);
        const request: MemberRequest = {
          method: 'POST',
          path: '/upload',
          headers: ['Host', 'origin.test', 'Content-Length', '2'],
          keepAlive: true,
          bodiless: false,
          closeClient: false,
        };
        exchange = exchangeOver({ socket } as unknown as MemberConnection, req, res, request);
        begun();
      });
    });
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
    const client = connect((front.address() as AddressInfo).port, '127.0.0.1');
    client.on('error', () => undefined);
    client.write('POST / HTTP/1.1\r\nHost: front\r\nContent-Length: 2\r\n\r\nok');
    setTimeout(() => client.destroy(), 50);
    try {
      await started;
      // before the fix it sent the request, and the member's answer waited, paused, for the member's idle timeout
      let deadline: NodeJS.Timeout | undefined;
      const end = await Promise.race([
        exchange as unknown as Promise<ExchangeEnd>,
        new Promise<never>((_resolve, reject) => {
          deadline = setTimeout(() => {
            reject(new Error('hang: the exchange did not end'));
          }, 3000);
        }),
      ]).finally(() => {
        clearTimeout(deadline);
      });
      assert.equal(end.reusable, false);
      assert.notEqual(end.error, null);
    } finally {
      for (const socket of sockets) socket.destroy();
      front.closeAllConnections();
      front.close();
      member.close();
    }
  },
);
