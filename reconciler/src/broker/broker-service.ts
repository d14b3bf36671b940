import type { Logger } from '../logger.js';
import { hostPort } from '../listen-address.js';
import type { FeedbackEvent, ProxyRequestBody } from './broker-bodies.js';
import { regionCandidates, type BrokerFleet, type BrokerProxy } from './broker-fleet.js';
import type { BrokerMetrics } from './broker-metrics.js';
import type { ExitRepin } from './exit-repin.js';
import type { BrokerHealth } from './health/health-model.js';
import { leaseAnswer, newLeaseId, noProxyAnswer, type FallbackPolicy, type LeaseAnswer } from './lease-answer.js';
import type { LeaseStore } from './lease-store.js';
import { resolveRegion } from './region.js';

export interface BrokerServiceOptions {
  readonly leases: LeaseStore;
  readonly health: BrokerHealth;
  readonly metrics: BrokerMetrics;
  readonly now: () => number;
  readonly leaseTtlSeconds: number;
  readonly fallback: FallbackPolicy;
  readonly log: Logger;
  /** Re-pins strict proxies whose exits keep failing clients; `onRepin` asks the reconciler for a pass. */
  readonly repin?: ExitRepin;
  readonly onRepin?: (proxyId: string) => void;
}

export type LeaseOutcome =
  | { readonly ok: true; readonly answer: LeaseAnswer }
  | { readonly ok: false; readonly code: 'unknown_region' | 'not_ready'; readonly message: string };

/** How long a client may cache "nothing healthy here" before asking again. */
const NO_PROXY_TTL_SECONDS = 10;
/** Feedback may arrive after its lease ended: ended leases are kept this long so it still finds its proxy. */
export const LEASE_MEMORY_MS = 60 * 60_000;

/**
 * The broker's decisions, without HTTP: leases (sticky within their TTL, chosen by the health model among the
 * region's usable proxies, kept in the database), feedback (each event's proxy found by lease, id or address, then
 * judged by the health model) and the health picture. The fleet and the proxies not to offer (not running, failing
 * their egress check) are set by whoever follows the reconciler.
 */
export class BrokerService {
  #fleet: BrokerFleet | null = null;
  #byId = new Map<string, BrokerProxy>();
  #byAddress = new Map<string, BrokerProxy>();
  #unusable: ReadonlySet<string> = new Set();

  constructor(private readonly options: BrokerServiceOptions) {}

  /** Whether a fleet is known (before the first reconcile, requests get 503 not_ready). */
  get ready(): boolean {
    return this.#fleet !== null;
  }

  setFleet(fleet: BrokerFleet): void {
    this.#fleet = fleet;
    this.#byId = new Map(fleet.proxies.map((proxy) => [proxy.proxyId, proxy]));
    this.#byAddress = new Map(fleet.proxies.map((proxy) => [addressKey(proxy.host, proxy.port), proxy]));
    this.options.health.setFleet(fleet.proxies.map(({ proxyId, pool }) => ({ proxyId, pool })));
  }

  /** Proxies not to lease now (not running, or failing torfleet's egress check); open leases keep theirs. */
  setUnusable(proxies: ReadonlySet<string>): void {
    this.#unusable = proxies;
  }

  request(client: string, body: ProxyRequestBody): LeaseOutcome {
    const { health, leases, metrics, now, leaseTtlSeconds, fallback } = this.options;
    const fleet = this.#fleet;
    if (!fleet) return { ok: false, code: 'not_ready', message: 'the broker has no fleet yet: retry in a few seconds' };
    const resolved = resolveRegion(body.region, fleet);
    if (!resolved.ok) {
      metrics.observeLease('unknown', 'refused');
      return { ok: false, code: 'unknown_region', message: resolved.message };
    }
    const region = resolved.region;
    const at = now();
    const key = { client, exchangeId: body.exchangeId, connectionType: body.connectionType, region: region.label };
    const held = leases.sticky(key, at);
    const heldProxy = held && this.#byId.get(held.proxyId);
    if (held && heldProxy && this.#offered(heldProxy.proxyId) && health.usable(held.proxyId, body.exchangeId)) {
      metrics.observeLease(region.label, 'sticky');
      return {
        ok: true,
        answer: leaseAnswer({
          id: held.id,
          proxyId: held.proxyId,
          host: heldProxy.host,
          port: heldProxy.port,
          region: region.label,
          ttlSeconds: Math.max(1, Math.ceil((held.expiresAt - at) / 1000)),
          healthScore: health.scoreOf(held.proxyId),
          strategy: 'sticky',
          fallback,
        }),
      };
    }
    const candidates = regionCandidates(region, fleet.proxies)
      .filter((proxy) => this.#offered(proxy.proxyId))
      .map((proxy) => proxy.proxyId);
    const choice = health.choose({ candidates, exchangeId: body.exchangeId, connectionType: body.connectionType });
    const proxy = choice && this.#byId.get(choice.proxyId);
    if (!choice || !proxy) {
      metrics.observeLease(region.label, 'no_proxy');
      return {
        ok: true,
        answer: noProxyAnswer(region.label, fallback, Math.min(NO_PROXY_TTL_SECONDS, leaseTtlSeconds)),
      };
    }
    const id = newLeaseId();
    leases.put({ ...key, id, proxyId: proxy.proxyId, createdAt: at, expiresAt: at + leaseTtlSeconds * 1000 });
    metrics.observeLease(region.label, 'leased');
    return {
      ok: true,
      answer: leaseAnswer({
        id,
        proxyId: proxy.proxyId,
        host: proxy.host,
        port: proxy.port,
        region: region.label,
        ttlSeconds: leaseTtlSeconds,
        healthScore: choice.healthScore,
        strategy: choice.rule,
        fallback,
      }),
    };
  }

  /** Judges each event (in order); returns how many named no proxy of the fleet. */
  feedback(events: readonly FeedbackEvent[]): { accepted: number; unmatched: number } {
    const { health, metrics } = this.options;
    let unmatched = 0;
    for (const event of events) {
      const proxyId = this.#proxyOf(event);
      const judged =
        proxyId === null
          ? 'unknown_proxy'
          : health.feedback({
              proxyId,
              exchangeId: event.exchangeId,
              event: event.event,
              success: event.success,
              statusCode: event.statusCode,
              latencyMs: event.latencyMs,
            });
      if (judged === 'unknown_proxy') unmatched++;
      if (judged === 'proxy_fault' && proxyId !== null) this.#considerRepin(proxyId);
      metrics.observeFeedback(judged);
    }
    return { accepted: events.length, unmatched };
  }

  /** One of torfleet's own egress checks, into the same score. */
  egressCheck(proxyId: string, ok: boolean, latencyMs: number | null): void {
    this.options.health.egressCheck({ proxyId, ok, latencyMs });
  }

  /** `GET /api/v1/proxy/health`: the health model's picture with live leases per proxy, in the wire's names. */
  healthView(): object {
    const snapshot = this.options.health.snapshot();
    const leases = this.options.leases.leasesPerProxy(this.options.now());
    return {
      version: snapshot.version,
      at: snapshot.at,
      pools: snapshot.pools.map((pool) => ({
        pool: pool.pool,
        state: pool.state,
        proxies: pool.proxies,
        ejected: pool.ejected,
        trial: pool.trial,
        held_by_cap: pool.heldByCap,
      })),
      proxies: snapshot.proxies.map((proxy) => ({
        proxy_id: proxy.proxyId,
        pool: proxy.pool,
        state: proxy.state,
        reason: proxy.reason,
        health_score: proxy.score,
        success_rate: proxy.successRate,
        latency_ms: proxy.latencyMs,
        faults_in_row: proxy.faultsInRow,
        ejections: proxy.ejections,
        ejected_until: proxy.ejectedUntil,
        open_connections: proxy.openConnections,
        leases: leases.get(proxy.proxyId) ?? 0,
        counts: proxy.counts,
      })),
      exchanges: snapshot.exchanges,
    };
  }

  /** Forgets leases that ended more than LEASE_MEMORY_MS ago; returns how many. */
  prune(): number {
    return this.options.leases.prune(this.options.now() - LEASE_MEMORY_MS);
  }

  #considerRepin(proxyId: string): void {
    const { repin, health, log } = this.options;
    const proxy = this.#byId.get(proxyId);
    if (!repin || !proxy || !repin.consider(proxy, health.ejectionsOf(proxyId))) return;
    log.warn('broker: clients keep failing through this strict proxy; its exit is avoided, so it is re-pinned', {
      proxy: proxyId,
      exits: proxy.exitFingerprints,
      ejections: health.ejectionsOf(proxyId),
    });
    this.options.onRepin?.(proxyId);
  }

  #offered(proxyId: string): boolean {
    return !this.#unusable.has(proxyId);
  }

  /** The fleet proxy an event names: by lease (even an ended one), else by id, else by the proxy_url's address. */
  #proxyOf(event: FeedbackEvent): string | null {
    if (event.leaseId !== null) {
      const lease = this.options.leases.get(event.leaseId);
      if (lease && this.#byId.has(lease.proxyId)) return lease.proxyId;
    }
    if (event.proxyId !== null && this.#byId.has(event.proxyId)) return event.proxyId;
    if (event.proxyUrl !== null) {
      const url = new URL(event.proxyUrl);
      const host = url.hostname.replace(/^\[|\]$/g, '');
      const proxy = this.#byAddress.get(addressKey(host, Number(url.port)));
      if (proxy) return proxy.proxyId;
    }
    return null;
  }
}

function addressKey(host: string, port: number): string {
  return hostPort(host, port);
}
