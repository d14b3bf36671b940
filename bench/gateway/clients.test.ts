/** The bench's own clients and process handling against sloppy and hostile peers: they fail with a reason, in time. */
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { freePort } from './free-port.js';
import { readUntil } from './read-bytes.js';
import { socks5Connect } from './socks5-dial.js';
import { startService } from './spawned-service.js';
import { openTunnel } from './tunnel-client.js';

/** A TCP peer on an ephemeral loopback port that does `behave` with every connection. */
async function peer(behave: (socket: net.Socket) => void): Promise<{ port: number; close: () => void }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    behave(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as net.AddressInfo;
  return {
    port: address.port,
    close: () => {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}

async function connected(port: number): Promise<net.Socket> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  await new Promise((resolve) => socket.once('connect', resolve));
  return socket;
}

test('readUntil: a peer that closes mid-message, one that sends too much, one that stays silent', async () => {
  const cases: [string, (socket: net.Socket) => void, RegExp][] = [
    ['half a message', (s) => s.end('HTTP/1.1 200 OK\r\nContent-'), /the peer closed after 25 bytes/],
    ['garbage without end', (s) => s.write(Buffer.alloc(70_000, 0x41)), /more than 65536 bytes without an end/],
    ['silence', () => undefined, /nothing complete within 200 ms/],
  ];
  for (const [name, behave, want] of cases) {
    const server = await peer(behave);
    const socket = await connected(server.port);
    try {
      const complete = (b: Buffer): number | null => (b.includes('\r\n\r\n') ? b.length : null);
      await assert.rejects(readUntil(socket, complete, name, 200, 65_536), want, name);
      assert.equal(socket.listenerCount('data'), 0, `${name}: listeners removed`);
    } finally {
      socket.destroy();
      server.close();
    }
  }
});

test('SOCKS5 dial: a server that refuses no-auth, one that refuses the CONNECT, one that answers garbage', async () => {
  const cases: [string, Buffer, RegExp][] = [
    ['wants auth', Buffer.from([5, 0xff]), /server refused no-auth \(05ff\)/],
    ['connect refused', Buffer.from([5, 0, 5, 5, 0, 1, 0, 0, 0, 0, 0, 0]), /refused, REP 5/],
    ['bad atyp', Buffer.from([5, 0, 5, 0, 0, 7, 0]), /unknown address type 7/],
  ];
  for (const [name, answer, want] of cases) {
    const server = await peer((socket) => socket.write(answer));
    try {
      await assert.rejects(socks5Connect({ socksPort: server.port, host: '127.0.0.1', port: 80 }, 2000), want, name);
    } finally {
      server.close();
    }
  }
});

test('CONNECT: a proxy that answers 407 or nothing HTTP-like fails the tunnel with its status line', async () => {
  const cases: [string, string, RegExp][] = [
    ['407', 'HTTP/1.1 407 Proxy Authentication Required\r\n\r\n', /CONNECT answered 407: HTTP\/1\.1 407/],
    ['not HTTP', 'SSH-2.0-OpenSSH_9\r\n\r\n', /CONNECT answered NaN: SSH-2\.0/],
  ];
  for (const [name, answer, want] of cases) {
    const server = await peer((socket) => socket.once('data', () => socket.write(answer)));
    try {
      await assert.rejects(openTunnel({ kind: 'http', port: server.port }, { port: 1 }), want, name);
    } finally {
      server.close();
    }
  }
});

test('startService: a process that exits, one that never listens (killed by its pid), one that does', async () => {
  const port = await freePort();
  const node = process.execPath;
  await assert.rejects(
    startService({
      name: 'quitter',
      command: node,
      args: ['-e', 'console.error("bad config"); process.exit(3)'],
      port,
    }),
    /quitter did not start \(exit 3\): bad config/,
  );
  const mute = startService({
    name: 'mute',
    command: node,
    args: ['-e', 'setInterval(() => {}, 1000)'],
    port,
    startDeadlineMs: 300,
  });
  await assert.rejects(mute, /mute did not start \(port \d+: no connection accepted within 300 ms\)/);
  const listen = `require('node:net').createServer().listen(${port}, '127.0.0.1')`;
  const service = await startService({ name: 'listener', command: node, args: ['-e', listen], port });
  assert.ok(service.startMs > 0);
  await service.stop();
  assert.throws(() => process.kill(service.pid, 0), /ESRCH/);
});
