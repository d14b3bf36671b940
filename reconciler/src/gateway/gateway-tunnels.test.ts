import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { after, afterEach, describe, test } from 'node:test';
import { closed, connectTo, rawExchange, readBytes, run } from '../testing/gateway-clients.js';
import { startTestEcho, startTestOrigin, testRouteTable } from '../testing/gateway-fixtures.js';
import { startTestGateway } from '../testing/gateway-harness.js';
import { waitFor } from '../wait-for.js';

/**
 * Tunnels under stress: early data, peers that leave mid-tunnel, 500 at once, readers that read nothing, the
 * connection limit; after each, the gateway still serves a normal request.
 */
const TOKEN = 'hostile-T0ken-99';
const origin = await startTestOrigin();
const echo = await startTestEcho();
const gw = await startTestGateway(testRouteTable(['pool-a'], { token: TOKEN }), {
  limits: { handshakeTimeoutMs: 400, headersTimeoutMs: 400 },
});
const basic = `Basic ${Buffer.from(`pool-a:${TOKEN}`).toString('base64')}`;
const connectHead = (port: number): string =>
  `CONNECT 127.0.0.1:${port} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nProxy-Authorization: ${basic}\r\n\r\n`;

after(async () => {
  await gw.close();
  await origin.close();
  await echo.close();
});

afterEach(async () => {
  const out = await run('curl', [
    '-sS',
    '-x',
    `http://pool-a:${TOKEN}@127.0.0.1:${gw.port}`,
    `http://127.0.0.1:${origin.port}/after`,
  ]);
  assert.equal(out.stdout, 'GET /after 0', `the gateway still serves a normal request: ${out.stderr}`);
});

/** A CONNECT tunnel to `port`, the 200 read. */
async function tunnelTo(port: number): Promise<Socket> {
  const socket = await connectTo(gw.port);
  socket.on('error', () => undefined);
  socket.write(connectHead(port));
  const head = await readBytes(socket, 'HTTP/1.1 200 Connection established\r\n\r\n'.length);
  assert.match(head.toString(), /^HTTP\/1\.1 200 /);
  return socket;
}

describe('tunnels', () => {
  test('bytes the client sends right after the CONNECT head go through', async () => {
    const socket = await connectTo(gw.port);
    socket.write(`${connectHead(echo.port)}early bytes`);
    const answer = await readBytes(socket, 'HTTP/1.1 200 Connection established\r\n\r\n'.length + 11);
    assert.match(answer.toString(), /\r\n\r\nearly bytes$/);
    socket.destroy();
  });

  test('bytes after the SOCKS5 request go through', async () => {
    const user = Buffer.from('pool-a');
    const pass = Buffer.from(TOKEN);
    const socket = await connectTo(gw.port);
    const port = Buffer.alloc(2);
    port.writeUInt16BE(echo.port);
    socket.write(
      Buffer.concat([
        Buffer.from([5, 1, 2, 1, user.length]),
        user,
        Buffer.from([pass.length]),
        pass,
        Buffer.from([5, 1, 0, 1, 127, 0, 0, 1]),
        port,
        Buffer.from('early'),
      ]),
    );
    const answer = await readBytes(socket, 2 + 2 + 10 + 5);
    assert.equal(answer.subarray(14).toString(), 'early');
    socket.destroy();
  });

  test('a client that disconnects mid-tunnel: the member side closes too, nothing stays open', async () => {
    const socket = await tunnelTo(echo.port);
    socket.write('hello');
    assert.equal((await readBytes(socket, 5)).toString(), 'hello');
    assert.equal(gw.gateway.openTunnels(), 1);
    socket.destroy();
    await waitFor('the tunnel to close', () => gw.gateway.openTunnels() === 0 && echo.open() === 0);
  });

  test('a target that resets mid-tunnel: the client is closed', async () => {
    const resetter = createServer((s) => {
      s.on('error', () => undefined);
      s.once('data', () => s.resetAndDestroy());
    });
    await new Promise<void>((resolve) => resetter.listen(0, '127.0.0.1', resolve));
    const socket = await tunnelTo((resetter.address() as AddressInfo).port);
    socket.write('x');
    await closed(socket);
    await waitFor('the tunnel to close', () => gw.gateway.openTunnels() === 0);
    resetter.close();
  });

  test('500 concurrent CONNECT tunnels, each echoes its own bytes', async () => {
    const sockets = await Promise.all(Array.from({ length: 500 }, () => tunnelTo(echo.port)));
    assert.equal(gw.gateway.openTunnels(), 500);
    const echoes = await Promise.all(
      sockets.map(async (socket, i) => {
        const text = `tunnel-${String(i).padStart(4, '0')}`;
        socket.write(text);
        return (await readBytes(socket, text.length)).toString() === text;
      }),
    );
    assert.equal(echoes.filter(Boolean).length, 500);
    for (const socket of sockets) socket.destroy();
    await waitFor('every tunnel to close', () => gw.gateway.openTunnels() === 0);
  });
});

describe('a slow reader (backpressure)', () => {
  /** A target that writes up to 1 GiB as fast as the socket takes it, honouring backpressure. */
  async function startFirehose(): Promise<{
    port: number;
    written: () => number;
    blocked: () => boolean;
    close: () => void;
  }> {
    let written = 0;
    let blocked = false;
    const chunk = Buffer.alloc(64 * 1024, 7);
    const sockets = new Set<Socket>();
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.once('data', () => {
        const pump = (): void => {
          while (written < 1024 ** 3) {
            written += chunk.length;
            if (!socket.write(chunk)) {
              blocked = true;
              socket.once('drain', () => {
                blocked = false;
                pump();
              });
              return;
            }
          }
          socket.end();
        };
        if (socket.readable) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 1073741824\r\n\r\n');
        pump();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
      port: (server.address() as AddressInfo).port,
      written: () => written,
      blocked: () => blocked,
      close: () => {
        for (const socket of sockets) socket.destroy();
        server.close();
      },
    };
  }

  /** Waits until the target is stuck on backpressure with nothing moving for half a second. */
  async function stalled(firehose: { written: () => number; blocked: () => boolean }): Promise<number> {
    let last = -1;
    return waitFor('the target to stall', async () => {
      const now = firehose.written();
      const stuck = firehose.blocked() && now === last;
      last = now;
      await new Promise((resolve) => setTimeout(resolve, 500));
      return stuck ? now : undefined;
    });
  }

  for (const protocol of ['CONNECT', 'HTTP'] as const) {
    test(`${protocol}: a client that reads nothing stalls the target; the gateway holds no more than socket buffers`, async () => {
      const firehose = await startFirehose();
      const socket = await connectTo(gw.port);
      socket.on('error', () => undefined);
      socket.pause();
      socket.write(
        protocol === 'CONNECT'
          ? `${connectHead(firehose.port)}go`
          : `GET http://127.0.0.1:${firehose.port}/big HTTP/1.1\r\nHost: x\r\nProxy-Authorization: ${basic}\r\n\r\n`,
      );
      const written = await stalled(firehose);
      assert.ok(written < 64 * 1024 * 1024, `the target got ${written} bytes out to a client that read none`);
      socket.destroy();
      firehose.close();
      await waitFor('the exchange to close', () => gw.gateway.openTunnels() === 0);
    });
  }
});

describe('the connection limit', () => {
  test('over maxConnections: HTTP 503, SOCKS5 refused; served again once connections close', async () => {
    const limited = await startTestGateway(testRouteTable(['pool-a']), { limits: { maxConnections: 2 } });
    const held = await Promise.all([connectTo(limited.port), connectTo(limited.port)]);
    await waitFor('the gateway to hold two connections', async () => {
      const probe = await rawExchange(limited.port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      return probe.status === 503 ? probe : undefined;
    });
    const socks = await rawExchange(limited.port, Buffer.from([5, 1, 0]));
    assert.deepEqual([...Buffer.from(socks.text, 'latin1')], [5, 0xff]);
    for (const socket of held) socket.destroy();
    await waitFor('the gateway to serve again', async () => {
      const out = await run('curl', [
        '-sS',
        '-x',
        `http://127.0.0.1:${limited.port}`,
        `http://127.0.0.1:${origin.port}/again`,
      ]);
      return out.stdout === 'GET /again 0';
    });
    await limited.close();
  });
});
