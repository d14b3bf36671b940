import type { ListenAddress } from '../listen-address.js';
import type { GatewayInput } from './gateway-input.js';

/**
 * The gateway as its runnable drives it, wherever it runs: in this thread (`torfleet gateway`,
 * GatewayService) or in a worker thread of `torfleet run` (GatewayThread), so that a busy reconciler never
 * stalls a tunnel.
 */
export interface GatewayHost {
  /** Listens on `listen` with routes from `input`; a ConfigError when the address cannot be had. */
  start(listen: ListenAddress, input: GatewayInput): Promise<void>;
  /** New routes for new connections; open tunnels keep theirs. An input that builds no table keeps the old. */
  update(input: GatewayInput): Promise<void>;
  /** Fleet proxies known not to run, or whose egress check fails: skipped while others can carry the route. */
  setUnusable(proxies: readonly string[]): Promise<void>;
  /** The gateway metrics in Prometheus text format ('' before start). */
  metricsText(): Promise<string>;
  /** Stops accepting, waits for open tunnels up to `ms`, closes what is left; then the host is stopped. */
  drain(ms: number): Promise<void>;
  /** Rejects if the host dies on its own (a worker thread that exits): its runnable then fails and restarts. */
  failure?(): Promise<never>;
}

/** How long a stopping gateway lets open tunnels finish (the contract's 30 s). */
export const DRAIN_MS = 30_000;
