/** One HTTP GET through a SOCKS5 port on loopback, timed; the echo server's answer names the exit it saw. */
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';

export interface SocksGet {
  /** From the TCP connect to the SOCKS port until the first byte of the HTTP answer. */
  readonly ttfbMs: number;
  /** The address the echo server saw: the exit's. */
  readonly ip: string;
}

/**
 * GET `/` of the echo server 127.0.0.1:`targetPort` through SOCKS5 (no auth) on 127.0.0.1:`socksPort`. Rejects on
 * a refused connection (`ECONNREFUSED`), a SOCKS error reply (`socks reply N`), a close, or `timeout`.
 */
export function socksGet(socksPort: number, targetPort: number, timeoutMs = 10_000): Promise<SocksGet> {
  return new Promise((resolve, reject) => {
    const startedAt = performance.now();
    let firstByteAt = 0;
    const socket = connect(socksPort, '127.0.0.1');
    socket.setNoDelay(true);
    let stage: 'method' | 'connect' | 'http' = 'method';
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
    socket.on('error', (error) => {
      finish(error);
    });
    socket.on('close', () => {
      finish(new Error(`closed during ${stage}`));
    });
    socket.on('connect', () => socket.write(Buffer.from([5, 1, 0])));
    socket.on('data', (chunk: Buffer) => {
      if (stage === 'http' && firstByteAt === 0) firstByteAt = performance.now();
      buffer = Buffer.concat([buffer, chunk]);
      if (stage === 'method' && buffer.length >= 2) {
        buffer = buffer.subarray(2);
        socket.write(Buffer.from([5, 1, 0, 1, 127, 0, 0, 1, targetPort >> 8, targetPort & 255]));
        stage = 'connect';
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

/**
 * Retries `socksGet` until it answers (the port not open yet, the circuit not built yet), every `everyMs`;
 * resolves with the ms from `since` (performance.now()) to the answer, and how many attempts it took.
 */
export async function firstAnswer(
  socksPort: number,
  targetPort: number,
  since: number,
  deadlineMs: number,
  everyMs = 5,
): Promise<{ ms: number; attempts: number; ip: string; lastError: string }> {
  let attempts = 0;
  let lastError = '';
  for (;;) {
    attempts++;
    try {
      const answer = await socksGet(socksPort, targetPort, 10_000);
      return { ms: performance.now() - since, attempts, ip: answer.ip, lastError };
    } catch (error) {
      lastError = (error as Error).message;
    }
    if (performance.now() - since > deadlineMs) {
      throw new Error(`no answer through port ${socksPort} within ${deadlineMs} ms (last: ${lastError})`);
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
