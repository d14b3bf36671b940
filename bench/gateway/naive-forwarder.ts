/**
 * BENCH-ONLY BASELINE, NEVER PRODUCT CODE: a naive HTTP proxy (absolute-URI + CONNECT) that dials every request
 * through one SOCKS5 server, no pooling, no routes, no auth. It stands in for the gateway until `torfleet gateway`
 * exists, so every column of the bench is exercised. `node naive-forwarder.js LISTEN_PORT SOCKS_PORT`;
 * BENCH_BUSY_MS=300 makes it block its event loop that long every second (reconcile work in the same thread).
 */
import http from 'node:http';
import type net from 'node:net';
import { socks5Connect } from './socks5-dial.js';

const [listenPort, socksPort] = process.argv.slice(2).map(Number);
if (!listenPort || !socksPort) throw new Error('usage: naive-forwarder.js LISTEN_PORT SOCKS_PORT');
const dial = (host: string, port: number): Promise<net.Socket> => socks5Connect({ socksPort, host, port }, 10_000);

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/');
  const headers = { ...req.headers };
  delete headers['proxy-connection'];
  dial(url.hostname, Number(url.port || 80)).then(
    (socket) => {
      const upstream = http.request({
        method: req.method,
        path: url.pathname + url.search,
        headers,
        createConnection: () => socket.resume(), // socks5Connect leaves it paused
      });
      upstream.on('response', (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    },
    () => res.writeHead(502).end(),
  );
});
server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
  client.on('error', () => client.destroy());
  const [host = '', port = '443'] = (req.url ?? '').split(':');
  dial(host, Number(port)).then(
    (socket) => {
      socket.on('error', () => client.destroy());
      socket.on('close', () => client.destroy());
      client.on('close', () => socket.destroy());
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) socket.write(head);
      socket.pipe(client).pipe(socket);
    },
    () => client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n'),
  );
});
server.on('clientError', (_error, socket) => socket.destroy());
server.listen(listenPort, '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));

const busyMs = Number(process.env.BENCH_BUSY_MS ?? 0);
if (busyMs > 0) {
  setInterval(() => {
    const until = Date.now() + busyMs;
    while (Date.now() < until); // the synchronous work under test: nothing else runs meanwhile
  }, 1000);
}
