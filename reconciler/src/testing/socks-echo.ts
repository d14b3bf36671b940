/** One HTTP GET of an echo server through a SOCKS5 port on loopback, timed; the answer names the exit it saw. */
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';

export interface SocksGet {
  /** From the TCP connect to the SOCKS port until the first byte of the HTTP answer. */
  readonly ttfbMs: number;
  /** The address the echo server saw: the exit's. */
  readonly ip: string;
}

export interface SocksGetOptions {
  readonly timeoutMs?: number;
  /** SOCKS5 username/password (RFC 1929); none: no authentication. */
  readonly auth?: { readonly username: string; readonly password: string };
}

/**
 * GET `/` of the echo server 127.0.0.1:`targetPort` through SOCKS5 on 127.0.0.1:`socksPort`. Rejects on a refused
 * connection (`ECONNREFUSED`), a SOCKS error reply (`socks reply N`), a close (`closed during <stage>`), or
 * `timeout` (default 10 s).
 */
export function socksGet(socksPort: number, targetPort: number, options: SocksGetOptions = {}): Promise<SocksGet> {
  const { timeoutMs = 10_000, auth } = options;
  return new Promise((resolve, reject) => {
    const startedAt = performance.now();
    let firstByteAt = 0;
    const socket = connect(socksPort, '127.0.0.1');
    socket.setNoDelay(true);
    let stage: 'method' | 'auth' | 'connect' | 'http' = 'method';
    let buffer = Buffer.alloc(0);
    let settled = false;
    const finish = (error: Error | null, ip = ''): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve({ ttfbMs: firstByteAt - startedAt, ip });
    };
    const timer = setTimeout(() => {
      finish(new Error('timeout'));
    }, timeoutMs);
    const request = Buffer.from([5, 1, 0, 1, 127, 0, 0, 1, targetPort >> 8, targetPort & 255]);
    const sendRequest = (): void => {
      socket.write(request);
      stage = 'connect';
    };
    socket.on('error', (error) => {
      finish(error);
    });
    socket.on('close', () => {
      finish(new Error(`closed during ${stage}`));
    });
    socket.on('connect', () => socket.write(Buffer.from(auth ? [5, 1, 2] : [5, 1, 0])));
    socket.on('data', (chunk: Buffer) => {
      if (stage === 'http' && firstByteAt === 0) firstByteAt = performance.now();
      buffer = Buffer.concat([buffer, chunk]);
      if (stage === 'method' && buffer.length >= 2) {
        buffer = buffer.subarray(2);
        if (auth) {
          const user = Buffer.from(auth.username);
          const pass = Buffer.from(auth.password);
          socket.write(Buffer.concat([Buffer.from([1, user.length]), user, Buffer.from([pass.length]), pass]));
          stage = 'auth';
        } else sendRequest();
      }
      if (stage === 'auth' && buffer.length >= 2) {
        buffer = buffer.subarray(2);
        sendRequest();
      }
      if (stage === 'connect' && buffer.length >= 2 && buffer[1] !== 0) {
        finish(new Error(`socks reply ${buffer[1] ?? '?'}`));
        return;
      }
      if (stage === 'connect' && buffer.length >= 10) {
        buffer = buffer.subarray(10);
        socket.write('GET / HTTP/1.1\r\nHost: echo\r\nConnection: close\r\n\r\n');
        stage = 'http';
        if (buffer.length > 0) firstByteAt = performance.now();
      }
      if (stage === 'http') {
        const ip = /"IP":"([^"]+)"/.exec(buffer.toString('latin1'))?.[1];
        if (ip !== undefined) finish(null, ip);
      }
    });
  });
}
