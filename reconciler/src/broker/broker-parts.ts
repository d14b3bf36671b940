import type Database from 'better-sqlite3';
import type { Logger } from '../logger.js';
import { BrokerMetrics } from './broker-metrics.js';
import { BrokerService } from './broker-service.js';
import { DEFAULT_REPIN, ExitRepin } from './exit-repin.js';
import { BrokerHealth } from './health/health-model.js';
import type { HealthSnapshot } from './health/health-snapshot.js';
import { DEFAULT_BROKER_HEALTH, type BrokerHealthSettings } from './health/health-settings.js';
import type { FallbackPolicy } from './lease-answer.js';
import { LeaseStore } from './lease-store.js';

export interface BrokerParts {
  readonly service: BrokerService;
  readonly metrics: BrokerMetrics;
  /** Exits of strict proxies that keep failing clients: the planner avoids them (re-pins those proxies). */
  readonly repin: ExitRepin;
}

/** The broker's decision parts over one database connection (leases in table `leases`); the HTTP side is apart. */
export function createBrokerParts(options: {
  readonly db: Database.Database;
  readonly leaseTtlSeconds: number;
  readonly fallback: FallbackPolicy;
  readonly log: Logger;
  readonly now?: () => number;
  readonly random?: () => number;
  readonly health?: BrokerHealthSettings;
  readonly onRepin?: (proxyId: string) => void;
}): BrokerParts {
  const now = options.now ?? Date.now;
  const health = new BrokerHealth(options.health ?? DEFAULT_BROKER_HEALTH, now, options.random ?? Math.random);
  const metrics: BrokerMetrics = new BrokerMetrics((): HealthSnapshot | null =>
    service.ready ? health.snapshot() : null,
  );
  const repin = new ExitRepin(DEFAULT_REPIN, now);
  const service: BrokerService = new BrokerService({
    leases: new LeaseStore(options.db),
    health,
    metrics,
    now,
    leaseTtlSeconds: options.leaseTtlSeconds,
    fallback: options.fallback,
    log: options.log,
    repin,
    ...(options.onRepin ? { onRepin: options.onRepin } : {}),
  });
  return { service, metrics, repin };
}
