import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { test } from 'node:test';
import { connectTo } from '../testing/gateway-clients.js';
import { waitFor } from '../wait-for.js';
import { SocketReader } from './socket-reader.js';

async function pair(): Promise<{ client: Socket; server: Socket; close: () => void }> {
  let accepted: (socket: Socket) => void = () => undefined;
  const got = new Promise<Socket>((resolve) => (accepted = resolve));
  const listener = createServer(accepted);
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const client = await connectTo((listener.address() as AddressInfo).port);
  const server = await got;
  return {
    client,
    server,
    close: () => {
      client.destroy();
      server.destroy();
      listener.close();
    },
  };
}

test('exact reads across chunk boundaries; release hands back what was not read', async () => {
  const { client, server, close } = await pair();
  const reader = new SocketReader(server, 1024);
  client.write(Buffer.from([5, 2]));
  assert.equal(await reader.byte(), 5);
  const two = reader.read(3);
  client.write(Buffer.from([2, 0]));
  client.write(Buffer.from([9, 7, 7]));
  assert.deepEqual([...(await two)], [2, 2, 0]);
  await waitFor('the last chunk to arrive', () => server.bytesRead === 7);
  assert.deepEqual([...reader.release()], [9, 7, 7]);
  close();
});

test('a read fails when the peer closes before the bytes arrive', async () => {
  const { client, server, close } = await pair();
  const reader = new SocketReader(server, 1024);
  const read = reader.read(10);
  client.end(Buffer.from([1, 2, 3]));
  await assert.rejects(read, /closed the connection during the handshake/);
  close();
});

test('at most maxBuffered bytes wait unread: the socket is paused beyond that', async () => {
  const { client, server, close } = await pair();
  new SocketReader(server, 16);
  client.write(Buffer.alloc(64 * 1024 * 1024));
  await waitFor('the reader to pause the socket', () => server.isPaused());
  assert.ok(server.bytesRead < 32 * 1024 * 1024, `read ${server.bytesRead}`);
  close();
});
