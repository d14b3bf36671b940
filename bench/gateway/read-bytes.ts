/** Bounded, deadline-limited reads from a socket for the bench's hand-written clients. */
import type { Socket } from 'node:net';

/**
 * Resolves with everything read once `complete(buffer)` returns the length of a whole message (the rest, if any, is
 * put back with unshift); rejects on close, error, `maxBytes` or the deadline. Listeners are removed either way and
 * the socket is left paused: the next readUntil or pipe() resumes it.
 */
export function readUntil(
  socket: Socket,
  complete: (buffer: Buffer) => number | null,
  what: string,
  timeoutMs: number,
  maxBytes = 2 * 1024 * 1024,
): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    let buffer = Buffer.alloc(0);
    const done = (error: Error | null, value?: Buffer, rest?: Buffer): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
      // paused before the rest goes back: unshift on a flowing socket re-emits it at once (into onData, forever),
      // and a flowing socket without a 'data' listener drops what comes next
      socket.pause();
      if (rest !== undefined && rest.length > 0) socket.unshift(rest);
      if (error) reject(error);
      else resolve(value ?? Buffer.alloc(0));
    };
    const onData = (chunk: Buffer): void => {
      buffer = Buffer.concat([buffer, chunk]);
      let length: number | null;
      try {
        length = complete(buffer);
      } catch (error) {
        done(error as Error); // a malformed message: thrown here it would be uncaught and end the process
        return;
      }
      if (length !== null) {
        done(null, buffer.subarray(0, length), buffer.subarray(length));
      } else if (buffer.length > maxBytes) done(new Error(`${what}: more than ${maxBytes} bytes without an end`));
    };
    const onError = (error: Error): void => {
      done(new Error(`${what}: ${error.message}`));
    };
    const onClose = (): void => {
      done(new Error(`${what}: the peer closed after ${buffer.length} bytes`));
    };
    const timer = setTimeout(() => {
      done(new Error(`${what}: nothing complete within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
    socket.resume();
  });
}

/** Length of a whole HTTP response (head + Content-Length body; head only when `headOnly`), or null if not yet. */
export function httpResponseLength(buffer: Buffer, headOnly: boolean): number | null {
  const end = buffer.indexOf('\r\n\r\n');
  if (end < 0) return null;
  if (headOnly) return end + 4;
  const head = buffer.subarray(0, end).toString('latin1');
  const match = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  if (!match) throw new Error(`response without Content-Length: ${head.split('\r\n')[0] ?? ''}`);
  const total = end + 4 + Number(match[1]);
  return buffer.length >= total ? total : null;
}

/** The status code of a response head ("HTTP/1.1 200 OK" → 200), NaN for anything else. */
export function httpStatus(response: Buffer): number {
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(response.subarray(0, 16).toString('latin1'));
  return match ? Number(match[1]) : NaN;
}
