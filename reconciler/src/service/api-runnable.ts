import type { Server } from 'node:http';
import { ConfigError, errorMessage } from '../errors.js';
import { untilAborted, type Runnable } from './runnable.js';

/**
 * The read-only HTTP API: ready once it listens. An address it cannot listen on is a `ConfigError`
 * (TORFLEET_LISTEN), so `run` ends at start-up; a server error later fails the runnable (restarted).
 */
export function apiRunnable(server: Server, listen: { readonly host: string; readonly port: number }): Runnable {
  const address = `${listen.host}:${String(listen.port)}`;
  return {
    name: 'api',
    async run({ signal, ready, log }) {
      await new Promise<void>((resolve, reject) => {
        const refused = (error: Error): void => {
          reject(new ConfigError(`cannot listen on ${address} (TORFLEET_LISTEN): ${errorMessage(error)}`));
        };
        server.once('error', refused);
        server.listen(listen.port, listen.host, () => {
          server.off('error', refused);
          resolve();
        });
      });
      log.info('api listening', { address });
      ready();
      let failed: ((error: Error) => void) | undefined;
      const failure = new Promise<never>((_resolve, reject) => {
        failed = reject;
        server.once('error', reject);
      });
      try {
        await Promise.race([untilAborted(signal), failure]);
      } finally {
        if (failed) server.off('error', failed);
        server.closeAllConnections();
        await new Promise<void>((resolve) =>
          server.close(() => {
            resolve();
          }),
        );
      }
    },
  };
}
