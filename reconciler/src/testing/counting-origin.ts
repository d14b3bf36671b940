import { createServer, Agent, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface CountingOrigin {
  readonly port: number;
  /** TCP connections accepted so far. */
  accepted(): number;
  /** TCP connections open now. */
  open(): number;
  /** Every request: its URL as received and the number (1, 2, …) of its TCP connection. */
  readonly seen: { url: string; connection: number }[];
  close(): Promise<void>;
}

/**
 * TESTS ONLY: a keep-alive HTTP origin on 127.0.0.1 counting its TCP connections. It answers `URL #CONNECTION`,
 * unless `handle` took the request (given the number of the request on its connection, 1 first).
 */
export async function startCountingOrigin(
  handle?: (req: IncomingMessage, res: ServerResponse, nth: number) => boolean,
): Promise<CountingOrigin> {
  const seen: CountingOrigin['seen'] = [];
  const sockets = new Set<Socket>();
  const numbers = new WeakMap<Socket, { id: number; requests: number }>();
  let accepted = 0;
  const server = createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    const conn = numbers.get(req.socket) ?? { id: 0, requests: 0 };
    conn.requests += 1;
    seen.push({ url: req.url ?? '', connection: conn.id });
    req.resume();
    if (handle?.(req, res, conn.requests)) return;
    req.on('end', () => res.end(`${req.url ?? ''} #${conn.id}`));
  });
  server.on('connection', (socket: Socket) => {
    accepted += 1;
    numbers.set(socket, { id: accepted, requests: 0 });
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    accepted: () => accepted,
    open: () => sockets.size,
    seen,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}

export interface ProxiedAnswer {
  readonly status: number;
  readonly body: string;
  readonly headers: IncomingMessage['headers'];
}

/** TESTS ONLY: one keep-alive client connection to an HTTP proxy (node's Agent, one socket), sending absolute URIs. */
export function proxyClient(proxyPort: number, authorization: string | null) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const send = (url: string, options: { method?: string; body?: string; user?: string } = {}) =>
    new Promise<ProxiedAnswer>((resolve, reject) => {
      const auth = options.user ? `Basic ${Buffer.from(options.user).toString('base64')}` : authorization;
      const req = request({
        host: '127.0.0.1',
        port: proxyPort,
        agent,
        method: options.method ?? 'GET',
        path: url,
        headers: auth === null ? {} : { 'Proxy-Authorization': auth },
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), headers: res.headers });
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.setTimeout(20_000, () => req.destroy(new Error(`no answer within 20 s for ${url}`)));
      req.end(options.body);
    });
  return {
    send,
    close: () => {
      agent.destroy();
    },
  };
}
