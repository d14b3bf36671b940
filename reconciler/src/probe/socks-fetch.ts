import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

export interface SocksEndpoint {
  readonly host: string;
  readonly port: number;
}

/** Largest HTTP response (head and body) read: an egress check answers with an address, a few bytes. */
export const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * GET `url` through a SOCKS5 proxy (no authentication; the host name goes to the proxy, never to a local
 * resolver), over plain HTTP or TLS. Resolves with the status and body; fails on any error, on a reply that is
 * not SOCKS5 or not HTTP, on a response over MAX_RESPONSE_BYTES, on a close mid-exchange, or after `timeoutMs`.
 * Whatever the proxy sends, at most MAX_RESPONSE_BYTES (plus one SOCKS reply) is held.
 */
export function fetchThroughSocks(
  proxy: SocksEndpoint,
  url: string,
  timeoutMs: number,
): Promise<{ status: number; body: string }> {
  const target = new URL(url);
  const secure = target.protocol === 'https:';
  const port = Number(target.port || (secure ? 443 : 80));
  const host = Buffer.from(target.hostname.replace(/^\[|\]$/g, ''));
  return new Promise((resolve, reject) => {
    if (host.length === 0 || host.length > 255) {
      reject(new Error(`the check URL's host name must be 1 to 255 bytes: ${url}`));
      return;
    }
    const socket = connect(proxy.port, proxy.host);
    let settled = false;
    const finish = (error: Error | undefined, value?: { status: number; body: string }): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else if (value) resolve(value);
    };
    const fail = (error: Error): void => {
      finish(error);
    };
    const timer = setTimeout(() => {
      fail(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('error', fail);
    socket.once('connect', () => {
      socket.write(Buffer.from([5, 1, 0])); // version 5, one method: no authentication
    });
    socket.on('close', () => {
      fail(new Error('the SOCKS proxy closed the connection during the SOCKS handshake'));
    });
    let stage: 'method' | 'connect' = 'method';
    let pending = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      pending = Buffer.concat([pending, chunk]);
      try {
        if (stage === 'method') {
          if (pending.length < 2) return;
          if (pending[0] !== 5) throw new Error('not a SOCKS5 proxy: its first reply is not SOCKS version 5');
          if (pending[1] !== 0) throw new Error('the SOCKS proxy refused the no-authentication method');
          pending = pending.subarray(2);
          stage = 'connect';
          socket.write(
            Buffer.concat([Buffer.from([5, 1, 0, 3, host.length]), host, Buffer.from([port >> 8, port & 255])]),
          );
        }
        const replyLength = connectReplyLength(pending);
        if (replyLength === undefined) return;
        const rest = pending.subarray(replyLength);
        socket.off('data', onData);
        socket.removeAllListeners('close');
        exchangeHttp(socket, rest, target, secure, (error, value) => {
          finish(error, value);
        });
      } catch (error) {
        fail(error as Error);
      }
    };
    socket.on('data', onData);
  });
}

/** The length of a complete SOCKS5 CONNECT reply at the start of `bytes`, undefined if more is needed; throws on a bad one. */
function connectReplyLength(bytes: Buffer): number | undefined {
  if (bytes.length < 2) return undefined;
  if (bytes[0] !== 5) throw new Error('the SOCKS proxy sent a CONNECT reply that is not SOCKS version 5');
  const code = bytes[1] ?? 1;
  if (code !== 0) throw new Error(`SOCKS reply ${code} (${SOCKS_REPLIES[code] ?? 'failure'})`);
  if (bytes.length < 5) return undefined;
  const type = bytes[3];
  const addressLength = type === 1 ? 4 : type === 4 ? 16 : type === 3 ? 1 + (bytes[4] ?? 0) : undefined;
  if (addressLength === undefined) throw new Error(`the SOCKS proxy replied with unknown address type ${type ?? '?'}`);
  const length = 4 + addressLength + 2;
  return bytes.length < length ? undefined : length;
}

/** Sends the GET over the connected tunnel (bytes already received after the reply are its first) and reads the answer. */
function exchangeHttp(
  socket: Socket,
  early: Buffer,
  target: URL,
  secure: boolean,
  done: (error: Error | undefined, value?: { status: number; body: string }) => void,
): void {
  if (early.length > 0) socket.unshift(early);
  const stream: Socket = secure ? tlsConnect({ socket, servername: target.hostname }) : socket;
  stream.on('error', (error) => {
    done(error);
  });
  const chunks: Buffer[] = [];
  let size = 0;
  stream.on('data', (data: Buffer) => {
    size += data.length;
    if (size > MAX_RESPONSE_BYTES) {
      done(new Error(`the response through the proxy is larger than ${MAX_RESPONSE_BYTES} bytes`));
      return;
    }
    chunks.push(data);
  });
  stream.on('close', () => {
    done(new Error('the connection through the proxy closed before the response ended'));
  });
  stream.on('end', () => {
    const response = Buffer.concat(chunks).toString('latin1');
    const status = /^HTTP\/1\.[01] (\d{3})/.exec(response)?.[1];
    const split = response.indexOf('\r\n\r\n');
    if (status === undefined || split === -1) {
      done(new Error('the answer through the proxy is not an HTTP response'));
      return;
    }
    const head = response.slice(0, split);
    const body = response.slice(split + 4);
    done(undefined, {
      status: Number(status),
      body: /^transfer-encoding:\s*chunked/im.test(head) ? dechunk(body) : body,
    });
  });
  stream.write(
    `GET ${target.pathname}${target.search} HTTP/1.1\r\nHost: ${target.host}\r\nUser-Agent: torfleet-probe\r\nAccept: application/json, text/plain\r\nConnection: close\r\n\r\n`,
  );
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
