/**
 * The bench's "Node floor": the least a Node process can do per CONNECT tunnel to a SOCKS5 server — accept, read
 * the request head, connect, SOCKS5 greeting and CONNECT (no auth, IPv4 targets), `200`, pipe both ways. No
 * routing, no auth, no health, no metrics, no logs, no limits: it is not a proxy to use, it is what the gateway's
 * per-tunnel cost is measured against, in the same run as privoxy (`node node-floor.js PORT SOCKS_PORT`).
 */
import net from 'node:net';

const HEAD_END = Buffer.from('\r\n\r\n');

/** Calls `done` with the bytes once `socket` sent at least `enough(bytes)` of them; -1: not yet. */
function readUntil(socket: net.Socket, enough: (bytes: Buffer) => number, done: (bytes: Buffer) => void): void {
  let bytes: Buffer = Buffer.alloc(0);
  const onData = (chunk: Buffer): void => {
    bytes = bytes.length === 0 ? chunk : Buffer.concat([bytes, chunk]);
    const length = enough(bytes);
    if (length < 0) return;
    socket.off('data', onData);
    socket.pause();
    if (bytes.length > length) socket.unshift(bytes.subarray(length));
    done(bytes.subarray(0, length));
  };
  socket.on('data', onData);
  socket.resume();
}

function socksRequest(authority: string): Buffer | null {
  const match = /^(\d+)\.(\d+)\.(\d+)\.(\d+):(\d+)$/.exec(authority);
  if (!match) return null;
  const [a, b, c, d, port] = match.slice(1).map(Number) as [number, number, number, number, number];
  return Buffer.from([5, 1, 0, 1, a, b, c, d, port >> 8, port & 0xff]);
}

function serve(client: net.Socket, socksPort: number): void {
  client.on('error', () => client.destroy());
  readUntil(
    client,
    (bytes) => {
      const end = bytes.indexOf(HEAD_END);
      return end < 0 ? -1 : end + HEAD_END.length;
    },
    (head) => {
      const request = socksRequest(head.toString('latin1').split(' ')[1] ?? '');
      if (!request) {
        client.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      const upstream = net.connect({ host: '127.0.0.1', port: socksPort, noDelay: true });
      upstream.on('error', () => client.destroy());
      upstream.once('connect', () => {
        upstream.write(Buffer.from([5, 1, 0]));
        readUntil(
          upstream,
          (bytes) => (bytes.length >= 2 ? 2 : -1),
          () => {
            upstream.write(request);
            readUntil(
              upstream,
              (bytes) => (bytes.length >= 10 ? 10 : -1),
              (reply) => {
                if (reply[1] !== 0) {
                  client.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n');
                  upstream.destroy();
                  return;
                }
                client.write('HTTP/1.1 200 Connection established\r\n\r\n');
                client.pipe(upstream);
                upstream.pipe(client);
                client.on('close', () => upstream.destroy());
                upstream.on('close', () => client.destroy());
              },
            );
          },
        );
      });
    },
  );
}

const [port, socksPort] = process.argv.slice(2).map(Number) as [number, number];
net
  .createServer({ noDelay: true }, (client) => {
    serve(client, socksPort);
  })
  .listen(port, '127.0.0.1');
