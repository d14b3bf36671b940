import { connect, type Socket } from 'node:net';
import { hopAbortError } from './hop-deadline.js';
import { HopError } from './hop-error.js';

/**
 * A TCP connection to a proxy at `host:port` (a member or the corporate proxy: an IP literal, or an upstream's
 * own host name; never a target's name). The socket keeps a guard 'error' listener for its whole life, so an
 * error between hand-offs (hop to hop, dialer to inbound side) cannot crash the process; each owner adds its own.
 */
export function connectTcp(host: string, port: number, signal: AbortSignal, what: string): Promise<Socket> {
  return new Promise<Socket>((resolve, reject) => {
    if (signal.aborted) {
      reject(hopAbortError(signal, what));
      return;
    }
    const socket = connect({ host, port, noDelay: true });
    socket.on('error', () => undefined);
    const cleanup = (): void => {
      socket.off('connect', onConnect);
      socket.off('error', onError);
      signal.removeEventListener('abort', onAbort);
    };
    const onConnect = (): void => {
      cleanup();
      resolve(socket);
    };
    const onError = (error: NodeJS.ErrnoException): void => {
      cleanup();
      socket.destroy();
      const cause = error.code === 'ECONNREFUSED' ? 'nothing listens there (connection refused)' : error.message;
      reject(new HopError('refused', `${what}: ${cause}`, false, { cause: error }));
    };
    const onAbort = (): void => {
      cleanup();
      socket.destroy();
      reject(hopAbortError(signal, what));
    };
    socket.once('connect', onConnect);
    socket.once('error', onError);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
