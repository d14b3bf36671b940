import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

export interface SocksEndpoint {
  readonly host: string;
  readonly port: number;
}

/**
 * GET `url` through a SOCKS5 proxy (no authentication; the host name goes to the proxy, never to a local
 * resolver), over plain HTTP or TLS. Resolves with the status and body; fails on any error or after `timeoutMs`.
 */
export function fetchThroughSocks(
  proxy: SocksEndpoint,
  url: string,
  timeoutMs: number,
): Promise<{ status: number; body: string }> {
  const target = new URL(url);
  const secure = target.protocol === 'https:';
  const port = Number(target.port || (secure ? 443 : 80));
  return new Promise((resolve, reject) => {
    const socket = connect(proxy.port, proxy.host);
    const timer = setTimeout(() => {
      fail(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    let settled = false;
    const fail = (error: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    };
    socket.on('error', fail);
    socket.once('connect', () => {
      socket.write(Buffer.from([5, 1, 0])); // version 5, one method: no authentication
    });
    let stage: 'method' | 'connect' = 'method';
    let pending = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      pending = Buffer.concat([pending, chunk]);
      if (stage === 'method') {
        if (pending.length < 2) return;
        if (pending[0] !== 5 || pending[1] !== 0) {
          fail(new Error('the SOCKS proxy refused the no-authentication method'));
          return;
        }
        pending = pending.subarray(2);
        stage = 'connect';
        const host = Buffer.from(target.hostname.replace(/^\[|\]$/g, ''));
        socket.write(
          Buffer.concat([Buffer.from([5, 1, 0, 3, host.length]), host, Buffer.from([port >> 8, port & 255])]),
        );
      }
      // The method was accepted: what follows is the CONNECT reply.
      if (pending.length < 5) return;
      if (pending[1] !== 0) {
        fail(new Error(`SOCKS reply ${pending[1] ?? '?'} (${SOCKS_REPLIES[pending[1] ?? 1] ?? 'failure'})`));
        return;
      }
      const addressLength = pending[3] === 1 ? 4 : pending[3] === 4 ? 16 : 1 + (pending[4] ?? 0);
      if (pending.length < 4 + addressLength + 2) return;
      socket.off('data', onData);
      const stream: Socket = secure ? tlsConnect({ socket, servername: target.hostname }) : socket;
      stream.on('error', fail);
      let response = '';
      stream.on('data', (data: Buffer) => (response += data.toString('latin1')));
      stream.on('end', () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(response)?.[1] ?? 0);
        const split = response.indexOf('\r\n\r\n');
        const head = split === -1 ? response : response.slice(0, split);
        const body = split === -1 ? '' : response.slice(split + 4);
        resolve({ status, body: /^transfer-encoding:\s*chunked/im.test(head) ? dechunk(body) : body });
      });
      stream.write(
        `GET ${target.pathname}${target.search} HTTP/1.1\r\nHost: ${target.host}\r\nUser-Agent: torfleet-probe\r\nAccept: application/json, text/plain\r\nConnection: close\r\n\r\n`,
      );
    };
    socket.on('data', onData);
  });
}

const SOCKS_REPLIES: Readonly<Record<number, string>> = {
  1: 'general failure',
  2: 'not allowed',
  3: 'network unreachable',
  4: 'host unreachable',
  5: 'connection refused',
  6: 'TTL expired',
  7: 'command not supported',
  8: 'address type not supported',
};

/** Decodes an HTTP/1.1 chunked body (`size CRLF data CRLF ... 0 CRLF CRLF`). */
export function dechunk(body: string): string {
  let out = '';
  let at = 0;
  for (;;) {
    const lineEnd = body.indexOf('\r\n', at);
    if (lineEnd === -1) return out;
    const size = parseInt(body.slice(at, lineEnd), 16);
    if (!Number.isFinite(size) || size === 0) return out;
    out += body.slice(lineEnd + 2, lineEnd + 2 + size);
    at = lineEnd + 2 + size + 2;
  }
}
