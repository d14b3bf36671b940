import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { Secret } from '../fleet/secret.js';
import { buildRouteTable } from '../gateway/route-table.js';
import type { Route, RouteTable } from '../gateway/route-types.js';

/** TESTS ONLY: a route table of named routes (no members: the direct dialer ignores them). */
export function testRouteTable(
  names: readonly string[],
  options: { readonly defaultRoute?: string | null; readonly token?: string | null } = {},
): RouteTable {
  const routes = new Map<string, Route>(names.map((name) => [name, { name, kind: 'pool', members: [] }]));
  return {
    lookup: (name) => routes.get(name),
    names: () => names,
    defaultRoute: options.defaultRoute === undefined ? (names[0] ?? null) : options.defaultRoute,
    token: options.token ? new Secret(options.token) : null,
    corporate: null,
  };
}

/**
 * TESTS AND BENCHES ONLY: the real route table of a fleet with no pools and one `socks5://127.0.0.1:PORT` upstream
 * per entry of `upstreams` (route name → port), as the gateway and the content service build it.
 */
export function socksRouteTable(upstreams: Readonly<Record<string, number>>): RouteTable {
  return buildRouteTable(
    {
      pools: [],
      gateway: {
        listen: { host: '127.0.0.1', port: 8888 },
        token: null,
        default: null,
        upstreams: Object.entries(upstreams).map(([name, port]) => ({
          name,
          protocol: 'socks5' as const,
          host: '127.0.0.1',
          port,
          auth: null,
        })),
        corporate: null,
      },
    },
    { corporate: true },
  );
}

export interface TestOrigin {
  readonly port: number;
  /** Every request the origin saw: method, URL as received, headers, body byte count. */
  readonly seen: { method: string; url: string; headers: IncomingHttpHeaders; bodyBytes: number }[];
  close(): Promise<void>;
}

/** TESTS ONLY: an HTTP origin on 127.0.0.1 answering `METHOD URL BODY_BYTES`, unless `handle` took the request. */
export async function startTestOrigin(
  handle?: (req: IncomingMessage, res: ServerResponse) => boolean,
): Promise<TestOrigin> {
  const seen: TestOrigin['seen'] = [];
  const server = createServer((req, res) => {
    if (handle?.(req, res)) return;
    let bodyBytes = 0;
    req.on('data', (chunk: Buffer) => (bodyBytes += chunk.length));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, bodyBytes });
      res.end(`${req.method ?? ''} ${req.url ?? ''} ${bodyBytes}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
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

export interface TestEcho {
  readonly port: number;
  /** Sockets accepted and not yet closed. */
  open(): number;
  close(): Promise<void>;
}

/** TESTS ONLY: a TCP echo server on 127.0.0.1. */
export async function startTestEcho(): Promise<TestEcho> {
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    open: () => sockets.size,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => {
          resolve();
        });
      }),
  };
}
