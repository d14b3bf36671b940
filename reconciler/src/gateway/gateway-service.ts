import { ConfigError, errorMessage } from '../errors.js';
import { hostPort, type ListenAddress } from '../listen-address.js';
import type { Logger } from '../logger.js';
import { createFleetDialer } from './fleet-dialer.js';
import { createGateway, tableRedactor, type Gateway } from './gateway.js';
import type { GatewayHost } from './gateway-host.js';
import type { GatewayInput } from './gateway-input.js';
import { createGatewayMetrics } from './gateway-metrics.js';
import { tableOf } from './route-table.js';
import type { RouteTable } from './route-types.js';

/** Each hop's deadline (a TCP connect, one proxy's handshake). */
const CONNECT_TIMEOUT_MS = 10_000;
/** Members tried for one connection before it fails. */
const MAX_ATTEMPTS = 3;

/** The gateway in this thread: route table, dialer, server and metrics composed (the one place they meet). */
export class GatewayService implements GatewayHost {
  readonly #log: Logger;
  readonly #metrics = createGatewayMetrics();
  readonly #unusable = new Set<string>();
  readonly #dialer;
  readonly #onFirstConnection: (() => void) | undefined;
  #gateway: Gateway | undefined;

  /** `onFirstConnection`: called when the gateway accepts its first connection (torfleet gateway: cli/startup-compiler.ts). */
  constructor(options: { readonly log: Logger; readonly onFirstConnection?: () => void }) {
    this.#log = options.log;
    this.#onFirstConnection = options.onFirstConnection;
    this.#dialer = createFleetDialer({
      health: { usable: (member) => !(member.kind === 'tor' && this.#unusable.has(member.id)) },
      now: () => Date.now(),
      random: Math.random,
      connectTimeoutMs: CONNECT_TIMEOUT_MS,
      maxAttempts: MAX_ATTEMPTS,
      log: this.#log,
    });
  }

  async start(listen: ListenAddress, input: GatewayInput): Promise<void> {
    const table = tableOf(input);
    this.#metrics.initRoutes(initialisedRoutes(table));
    const gateway = createGateway({
      table,
      dialer: this.#dialer,
      log: this.#log,
      metrics: this.#metrics,
    });
    await new Promise<void>((resolve, reject) => {
      const refused = (error: Error): void => {
        reject(
          new ConfigError(`the gateway cannot listen on ${hostPort(listen.host, listen.port)}: ${errorMessage(error)}`),
        );
      };
      gateway.server.once('error', refused);
      gateway.server.listen(listen.port, listen.host, () => {
        gateway.server.off('error', refused);
        resolve();
      });
    });
    this.#gateway = gateway;
    if (this.#onFirstConnection) gateway.server.once('connection', this.#onFirstConnection);
    this.#log.info('gateway listening', { address: hostPort(listen.host, listen.port), routes: table.names().length });
  }

  update(input: GatewayInput): Promise<void> {
    const table = tableOf(input);
    this.#metrics.initRoutes(initialisedRoutes(table));
    this.#gateway?.update(table, tableRedactor(table));
    return Promise.resolve();
  }

  setUnusable(proxies: readonly string[]): Promise<void> {
    this.#unusable.clear();
    for (const proxy of proxies) this.#unusable.add(proxy);
    return Promise.resolve();
  }

  async metricsText(): Promise<string> {
    return this.#gateway ? (await this.#metrics.exposition()).text : '';
  }

  async drain(ms: number): Promise<void> {
    const gateway = this.#gateway;
    this.#gateway = undefined;
    if (gateway) await gateway.drain(ms);
  }
}

/**
 * The routes whose series exist from the start: every route but single proxies (`POOL-i`: a fleet of a
 * thousand proxies would start with tens of thousands of series); a proxy's series appear at its first use.
 */
function initialisedRoutes(table: RouteTable): string[] {
  return table.names().filter((name) => table.lookup(name)?.kind !== 'proxy');
}
