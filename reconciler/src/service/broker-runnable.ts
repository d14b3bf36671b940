import type { Server } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import { createSecureContext } from 'node:tls';
import { createBrokerServer } from '../broker/broker-http.js';
import type { BrokerMetrics } from '../broker/broker-metrics.js';
import type { BrokerService } from '../broker/broker-service.js';
import type { BrokerSettings } from '../broker/broker-settings.js';
import { parseClientTokens, type ClientTokens } from '../broker/client-tokens.js';
import { WatchedFiles } from '../broker/watched-file.js';
import { ConfigError, errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Runnable } from './runnable.js';
import { listenOn, serveUntilAborted } from './serve-http.js';

export interface BrokerRunnableOptions {
  readonly settings: BrokerSettings;
  readonly service: BrokerService;
  readonly metrics: BrokerMetrics;
  readonly now: () => number;
  /** How often ended leases are forgotten (LEASE_MEMORY_MS after their end). */
  readonly pruneEveryMs?: number;
}

/**
 * The broker (clients/PROTOCOL.md) on its own listener: ready once it listens. Its tokens file and TLS files are
 * read at start (a file that cannot be used is a ConfigError: `run` ends at start-up) and again whenever they
 * change; a changed file that cannot be used leaves the previous tokens or certificate in effect.
 */
export function brokerRunnable(options: BrokerRunnableOptions): Runnable {
  const { settings, service, metrics, now } = options;
  return {
    name: 'broker',
    async run({ signal, ready, log }) {
      const tokens = startupRead(
        () => watchedTokens(settings.tokensFile, 'the broker tokens file', log),
        'TORFLEET_BROKER_TOKENS_FILE',
      );
      const serving: { server?: Server | HttpsServer } = {};
      const tls =
        settings.tls &&
        startupRead(
          () =>
            new WatchedFiles(
              [settings.tls?.certFile ?? '', settings.tls?.keyFile ?? ''],
              ([cert, key]) => {
                createSecureContext({ cert, key }); // throws on a certificate or key that does not parse or match
                return { ok: true, value: { cert: cert ?? Buffer.alloc(0), key: key ?? Buffer.alloc(0) } };
              },
              'the broker TLS certificate and key',
              log,
              (pair) => {
                (serving.server as HttpsServer | undefined)?.setSecureContext(pair);
              },
            ),
          'TORFLEET_BROKER_TLS_CERT / TORFLEET_BROKER_TLS_KEY',
        );
      const server = createBrokerServer({
        service,
        tokens: () => tokens.value,
        metrics,
        rate: settings.rate,
        now,
        log,
        tls: tls?.value ?? null,
      });
      serving.server = server;
      tokens.watch();
      tls?.watch();
      const prune = setInterval(() => {
        try {
          service.prune();
        } catch (error) {
          log.warn('broker could not forget ended leases', { error: errorMessage(error) });
        }
      }, options.pruneEveryMs ?? 60_000);
      try {
        await listenOn(server, settings.listen, 'TORFLEET_BROKER_LISTEN');
        log.info('broker listening', {
          address: `${settings.tls ? 'https' : 'http'}://${settings.listen.host}:${String(settings.listen.port)}`,
          clients: tokens.value.names.length,
        });
        ready();
        await serveUntilAborted(server, signal);
      } finally {
        clearInterval(prune);
        await tokens.stop();
        await tls?.stop();
      }
    },
  };
}

/** A tokens file (`CLIENT_NAME SHA256_HEX` lines), re-read when it changes; `what` names it in logs. */
export function watchedTokens(file: string, what: string, log: Logger): WatchedFiles<ClientTokens> {
  return new WatchedFiles(
    [file],
    ([text]) => {
      const parsed = parseClientTokens(file, text?.toString('utf8') ?? '');
      return parsed.ok ? { ok: true, value: parsed.tokens } : parsed;
    },
    what,
    log,
  );
}

/** `read()`, its failure a ConfigError naming `setting` (`run` ends at start-up). */
export function startupRead<T>(read: () => T, setting: string): T {
  try {
    return read();
  } catch (error) {
    throw new ConfigError(`${setting}: ${errorMessage(error)}`);
  }
}
