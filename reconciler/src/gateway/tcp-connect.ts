import { connect, type Socket } from 'node:net';
import type { Cancel } from './cancel.js';
import { hopAbortError } from './hop-deadline.js';
import { HopError } from './hop-error.js';

/**
 * A TCP connection to a proxy at `host:port` (a member or the corporate proxy: an IP literal, or an upstream's
 * own host name; never a target's name). The socket keeps a guard 'error' listener for its whole life, so an
 * error between hand-offs (hop to hop, dialer to inbound side) cannot crash the process; each owner adds its own.
 */
export function connectTcp(host: string, port: number, cancel: Cancel, what: string): Promise<Socket> {
  return new Promise<Socket>((resolve, reject) => {
    if (cancel.cancelled) {
      reject(hopAbortError(cancel, what));
      return;
    }
    const socket = connect({ host, port, noDelay: true });
    socket.on('error', ignoreError);
    let stopListening = (): void => undefined;
    const cleanup = (): void => {
      socket.off('connect', onConnect);
      socket.off('error', onError);
      stopListening();
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
      reject(hopAbortError(cancel, what));
    };
    socket.once('connect', onConnect);
    socket.once('error', onError);
    stopListening = cancel.onCancel(onAbort);
  });
}

/**
 * The guard listener, outside connectTcp: a closure made there would share its scope and keep the connect's
 * handlers (and the dial's cancel) alive for the socket's whole life.
 */
function ignoreError(): void {
  // reported by whoever owns the socket at the time
}
