import type { Server } from 'node:net';
import { ConfigError, errorMessage } from '../errors.js';
import { untilAborted } from './runnable.js';

/** Listens on `listen`; an address it cannot take is a ConfigError naming the setting (`run` ends at start-up). */
export async function listenOn(
  server: Server,
  listen: { readonly host: string; readonly port: number },
  setting: string,
): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const refused = (error: Error): void => {
      reject(
        new ConfigError(`cannot listen on ${listen.host}:${String(listen.port)} (${setting}): ${errorMessage(error)}`),
      );
    };
    server.once('error', refused);
    server.listen(listen.port, listen.host, () => {
      server.off('error', refused);
      resolve();
    });
  });
}

/**
 * Serves until `signal` aborts (then closes every connection and the server) or the server fails (a rejection:
 * the supervisor restarts the runnable).
 */
export async function serveUntilAborted(
  server: Server & { closeAllConnections?: () => void },
  signal: AbortSignal,
): Promise<void> {
  let failed: ((error: Error) => void) | undefined;
  const failure = new Promise<never>((_resolve, reject) => {
    failed = reject;
    server.once('error', reject);
  });
  try {
    await Promise.race([untilAborted(signal), failure]);
  } finally {
    if (failed) server.off('error', failed);
    server.closeAllConnections?.();
    await new Promise<void>((resolve) =>
      server.close(() => {
        resolve();
      }),
    );
  }
}
