import { errorMessage } from '../errors.js';
import { hostPort, type ListenAddress } from '../listen-address.js';
import { DRAIN_MS, type GatewayHost } from '../gateway/gateway-host.js';
import type { GatewayInput } from '../gateway/gateway-input.js';
import { gatewayListen } from '../gateway/route-table.js';
import { untilAborted, type Runnable } from './runnable.js';

/** The latest gateway input (null: no gateway wanted) and a way to hear of the next one. */
export interface GatewayFeed {
  current(): GatewayInput | null;
  onChange(listener: () => void): () => void;
}

export interface GatewayRunnableOptions {
  readonly host: GatewayHost;
  readonly feed: GatewayFeed;
  /** `--listen`: wins over the fleet's `gateway.listen`. */
  readonly listen?: ListenAddress | undefined;
  readonly drainMs?: number;
  /**
   * What a gateway that cannot listen (its address taken) does before it ever served: `ends-service` (the
   * default; `torfleet gateway`, whose whole job it is, exits 1) or `retried` (`torfleet run`, where the
   * gateway is part of the fleet like a pool: one error line, then a retry after the supervisor's backoff).
   * Later, a gateway left serving nothing (a moved listener that cannot listen) is always retried.
   */
  readonly startFailure?: 'ends-service' | 'retried';
}

/**
 * Serves the gateway while the feed wants one: starts it when an input arrives, swaps its routes on every
 * change (open tunnels keep theirs), moves it when `gateway.listen` changes, drains and stops it when the
 * fleet drops its `gateway` section, and on stop drains open tunnels (30 s). Ready at once: the gateway
 * never holds up the runnables after it.
 */
export function gatewayRunnable(options: GatewayRunnableOptions): Runnable {
  const { host, feed } = options;
  const drainMs = options.drainMs ?? DRAIN_MS;
  return {
    name: 'gateway',
    async run({ signal, ready, log }) {
      let serving: ListenAddress | undefined;
      const converge = async (): Promise<void> => {
        const input = signal.aborted ? null : feed.current();
        const listen = input ? (options.listen ?? gatewayListen(input)) : undefined;
        if (serving && (!listen || hostPort(listen.host, listen.port) !== hostPort(serving.host, serving.port))) {
          log.info('gateway stopping: draining open tunnels', { address: hostPort(serving.host, serving.port) });
          await host.drain(drainMs);
          serving = undefined;
        }
        if (!input || !listen) return;
        if (serving) {
          await host.update(input);
        } else {
          await host.start(listen, input);
          serving = listen;
        }
      };
      // One change at a time, in order. A failed change that leaves the gateway serving (new routes refused)
      // is logged; one that leaves nothing served (a listen address taken) fails this run: the supervisor
      // logs it and runs it again after its backoff, which tries the address again.
      // Subscribed before the first converge: an input that comes while the first start runs is not missed.
      if (options.startFailure === 'retried') ready();
      let unserved: (error: unknown) => void = () => undefined;
      const servesNothing = new Promise<never>((_resolve, reject) => (unserved = reject));
      servesNothing.catch(() => undefined);
      const died = host.failure ? [host.failure()] : [];
      let chain = converge();
      const unsubscribe = feed.onChange(() => {
        chain = chain.then(converge).catch((error: unknown) => {
          if (!serving) unserved(error);
          else log.error('gateway change failed; the gateway keeps what it had', { error: errorMessage(error) });
        });
      });
      try {
        await chain; // a first start that fails rejects run(): a ConfigError before ready() ends `torfleet gateway`
        ready();
        await Promise.race([untilAborted(signal), servesNothing, ...died]);
      } finally {
        unsubscribe();
      }
      await chain.catch(() => undefined);
      if (serving) {
        log.info('gateway stopping: draining open tunnels', { address: hostPort(serving.host, serving.port), drainMs });
        await host.drain(drainMs);
      }
    },
  };
}
