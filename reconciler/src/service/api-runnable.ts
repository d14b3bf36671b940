import type { Server } from 'node:http';
import type { Runnable } from './runnable.js';
import { listenOn, serveUntilAborted } from './serve-http.js';

/**
 * The read-only HTTP API: ready once it listens. An address it cannot listen on is a `ConfigError`
 * (TORFLEET_LISTEN), so `run` ends at start-up; a server error later fails the runnable (restarted).
 */
export function apiRunnable(server: Server, listen: { readonly host: string; readonly port: number }): Runnable {
  return {
    name: 'api',
    async run({ signal, ready, log }) {
      await listenOn(server, listen, 'TORFLEET_LISTEN');
      log.info('api listening', { address: `${listen.host}:${String(listen.port)}` });
      ready();
      await serveUntilAborted(server, signal);
    },
  };
}
