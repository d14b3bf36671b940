import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ObservedProxy } from '../plan/plan-types.js';
import type { ProxyRuntime } from '../runtime/proxy-runtime.js';
import { decideRestarts, type WatchdogPolicy, type WatchdogState } from './bootstrap-watchdog.js';
import type { HealthChecker, ProxyHealth } from './proxy-health.js';

/** Why torfleet restarted a proxy (label `reason` of torfleet_proxy_restarts_total). */
export const RESTART_REASONS = ['bootstrap_stalled'] as const;
export type RestartReason = (typeof RESTART_REASONS)[number];

export interface HealthMonitorOptions {
  readonly runtime: Pick<ProxyRuntime, 'list' | 'remove'>;
  readonly checker: HealthChecker;
  /** Whether the fleet's tors use the network (`tor.disableNetwork: false`): only then can they be stuck. */
  readonly networkEnabled: () => boolean;
  readonly policy: WatchdogPolicy;
  readonly intervalMs: number;
  /** A proxy was removed to be recreated (with its data directory) by the next pass: enqueue one. */
  readonly onRestart: (proxy: string) => void;
  readonly onRestartCounted?: (reason: RestartReason) => void;
  /** Every listing of the runtime this monitor made (where proxies run: ProxyLocations). */
  readonly onListed?: (observed: readonly ObservedProxy[]) => void;
  readonly log: Logger;
  readonly now?: () => Date;
}

/**
 * Every `intervalMs`: reads the health of every running proxy and, when the network is enabled, restarts
 * the ones whose bootstrap is stuck (within their restart budget). A restart removes the proxy and keeps
 * its data directory (`forget: false`); the next pass recreates it from the plan, as for any missing proxy,
 * so no runtime needs a restart method and the plan stays the only way proxies are made. Never throws.
 */
export class HealthMonitor {
  private state: WatchdogState = new Map();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly now: () => Date;

  constructor(private readonly options: HealthMonitorOptions) {
    this.now = options.now ?? (() => new Date());
  }

  health(proxy: string, instance?: string): ProxyHealth | null {
    return this.options.checker.health(proxy, instance);
  }

  /** Proxies stuck with their restart budget spent: left alone until the window frees a restart. */
  outOfBudget(): string[] {
    return [...this.state].filter(([, watch]) => watch.outOfBudget).map(([proxy]) => proxy);
  }

  start(): void {
    this.timer ??= setInterval(() => {
      this.running ??= this.tick().finally(() => (this.running = undefined));
    }, this.options.intervalMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One round: check every running proxy, restart the stuck ones. */
  async tick(): Promise<void> {
    const { runtime, checker, log } = this.options;
    let observed: ObservedProxy[];
    try {
      observed = await runtime.list();
    } catch (error) {
      log.warn('health check: cannot list the proxies', { error: errorMessage(error) });
      return;
    }
    this.options.onListed?.(observed);
    const seen = await checker.check(observed);
    if (!this.options.networkEnabled()) return;
    // A packed proxy's tor is shared: its bootstrap is never restarted from here (its controller rebuilds circuits).
    const observations = observed.flatMap((proxy) => {
      if (proxy.sharedTor) return [];
      const health = seen.get(proxy.name);
      return health ? [{ proxy: proxy.name, instance: proxy.id, bootstrap: health.bootstrap }] : [];
    });
    const decision = decideRestarts(this.state, observations, this.now().getTime(), this.options.policy);
    this.state = decision.state;
    const { maxRestarts, stuckAfterMs, windowMs } = this.options.policy;
    const budget = `${maxRestarts} restarts per ${windowMs / 60_000} min`;
    for (const name of decision.newlyOutOfBudget) {
      log.warn('proxy bootstrap stuck and its restart budget is spent; leaving it alone', {
        proxy: name,
        ...describe(seen.get(name)),
        budget,
      });
    }
    for (const name of decision.restart) {
      const proxy = observed.find((p) => p.name === name);
      if (!proxy) continue;
      log.warn('restarting a proxy whose tor made no bootstrap progress', {
        proxy: name,
        ...describe(seen.get(name)),
        stuckForSeconds: stuckAfterMs / 1000,
        restartsInWindow: this.state.get(name)?.restarts.length ?? 0,
        budget,
      });
      try {
        await runtime.remove(proxy, { forget: false });
        this.options.onRestartCounted?.('bootstrap_stalled');
      } catch (error) {
        log.warn('cannot restart the proxy; the next pass will see it', { proxy: name, error: errorMessage(error) });
      }
      this.options.onRestart(name);
    }
  }
}

function describe(health: ProxyHealth | undefined): Record<string, unknown> {
  return health ? { bootstrap: health.bootstrap, tag: health.tag, problem: health.problem } : {};
}
