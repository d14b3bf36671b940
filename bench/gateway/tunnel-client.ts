/** The bench's tunnel client: CONNECT through an HTTP proxy or SOCKS5 CONNECT, then one GET over the tunnel. */
import net from 'node:net';
import { httpResponseLength, httpStatus, readUntil } from './read-bytes.js';
import { socks5Connect } from './socks5-dial.js';

/** Where the client connects: an HTTP proxy (CONNECT and absolute-URI) or a SOCKS5 server. */
export interface ProxyAddress {
  readonly kind: 'http' | 'socks';
  readonly port: number;
}

/** The nginx origin on loopback. */
export interface Origin {
  readonly port: number;
}

export const ORIGIN_HOST = '127.0.0.1';
const TIMEOUT_MS = 10_000;

export interface OpenTunnel {
  readonly socket: net.Socket;
  /** CONNECT (or the SOCKS greeting) sent → 200 (or the SOCKS reply) received, in ms. */
  readonly setupMs: number;
}

export async function openTunnel(proxy: ProxyAddress, origin: Origin): Promise<OpenTunnel> {
  const started = performance.now();
  if (proxy.kind === 'socks') {
    const socket = await socks5Connect({ socksPort: proxy.port, host: ORIGIN_HOST, port: origin.port }, TIMEOUT_MS);
    return { socket, setupMs: performance.now() - started };
  }
  const socket = net.connect({ port: proxy.port, host: '127.0.0.1', noDelay: true });
  socket.on('error', () => undefined); // reported by the read below
  const authority = `${ORIGIN_HOST}:${origin.port}`;
  socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`);
  try {
    const head = await readUntil(socket, (b) => httpResponseLength(b, true), 'CONNECT answer', TIMEOUT_MS);
    const status = httpStatus(head);
    if (status !== 200)
      throw new Error(`CONNECT answered ${status}: ${head.toString('latin1').split('\r\n')[0] ?? ''}`);
  } catch (error) {
    socket.destroy();
    throw error;
  }
  return { socket, setupMs: performance.now() - started };
}

/** One GET of `path` over an open tunnel (origin-form); resolves with the body size once it is all read. */
export async function getOverTunnel(socket: net.Socket, origin: Origin, path: string): Promise<number> {
  socket.write(`GET ${path} HTTP/1.1\r\nHost: ${ORIGIN_HOST}:${origin.port}\r\n\r\n`);
  const response = await readUntil(socket, (b) => httpResponseLength(b, false), `GET ${path} in a tunnel`, TIMEOUT_MS);
  const status = httpStatus(response);
  if (status !== 200) throw new Error(`GET ${path} in a tunnel answered ${status}`);
  return response.length - response.indexOf('\r\n\r\n') - 4;
}

export interface TunnelTiming {
  readonly setupMs: number;
  readonly totalMs: number;
}

/** CONNECT, read 200, GET /1k over the tunnel, read the answer, close. */
export async function tunnelOnce(proxy: ProxyAddress, origin: Origin): Promise<TunnelTiming> {
  const started = performance.now();
  const tunnel = await openTunnel(proxy, origin);
  try {
    await getOverTunnel(tunnel.socket, origin, '/1k');
  } finally {
    tunnel.socket.destroy();
  }
  return { setupMs: tunnel.setupMs, totalMs: performance.now() - started };
}

/**
 * One plain GET of `path` on a fresh connection, Connection: close: absolute-URI through an HTTP proxy, origin-form
 * over SOCKS5. The same client for both, so the difference is what the proxy adds. Resolves with the ms it took.
 */
export async function plainGetOnce(proxy: ProxyAddress, origin: Origin, path: string): Promise<number> {
  const started = performance.now();
  const authority = `${ORIGIN_HOST}:${origin.port}`;
  let socket: net.Socket;
  let target = path;
  if (proxy.kind === 'socks') {
    socket = await socks5Connect({ socksPort: proxy.port, host: ORIGIN_HOST, port: origin.port }, TIMEOUT_MS);
  } else {
    socket = net.connect({ port: proxy.port, host: '127.0.0.1', noDelay: true });
    socket.on('error', () => undefined); // reported by the read below
    target = `http://${authority}${path}`;
  }
  try {
    socket.write(`GET ${target} HTTP/1.1\r\nHost: ${authority}\r\nConnection: close\r\n\r\n`);
    const response = await readUntil(socket, (b) => httpResponseLength(b, false), `GET ${target}`, TIMEOUT_MS);
    const status = httpStatus(response);
    if (status !== 200) throw new Error(`GET ${target} answered ${status}`);
  } finally {
    socket.destroy();
  }
  return performance.now() - started;
}
