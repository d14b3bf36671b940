import { afterFault, afterSuccess, ejectionPhase, NOT_EJECTED, trialOpen, withTrialLease } from './ejection.js';
import { ExchangeRecords } from './exchange-records.js';
import type { BrokerHealthSettings } from './health-settings.js';
import type { HealthSnapshot } from './health-snapshot.js';
import { poolView, proxyView, round3 } from './health-views.js';
import { outcomeClass, type FeedbackOutcome, type OutcomeClass } from './outcome-class.js';
import { chooseProxy, type Candidate, type ChoiceRule } from './proxy-choice.js';
import { newProxyRecord, type ProxyRecord } from './proxy-record.js';
import { observe, proxyScore } from './proxy-score.js';
import { RecentMap } from './recent-map.js';

/** A proxy of the fleet and its pool (the half-pool cap counts per pool). */
export interface FleetProxy {
  readonly proxyId: string;
  readonly pool: string;
}

/** One feedback item, its proxy resolved by the service (from `lease_id`, `proxy_id` or `proxy_url`). */
export interface ProxyFeedback extends FeedbackOutcome {
  readonly proxyId: string;
  readonly exchangeId: string | null;
  readonly latencyMs: number | null;
}

/** One of torfleet's own egress checks of a proxy. */
export interface EgressCheckOutcome {
  readonly proxyId: string;
  readonly ok: boolean;
  readonly latencyMs: number | null;
}

/**
 * What a report counted as: its class, or `exchange_failure` (the exchange rule: counts against none), or
 * `unknown_proxy` (not in the fleet: ignored, so made-up ids take no memory).
 */
export type JudgedClass = OutcomeClass | 'exchange_failure' | 'unknown_proxy';

export interface LeaseRequest {
  /** The proxies the request's region resolves to. */
  readonly candidates: readonly string[];
  readonly exchangeId: string | null;
  /** `websocket`: fewest open connections; anything else: power of two choices. */
  readonly connectionType: string;
}

export interface LeaseChoice {
  readonly proxyId: string;
  readonly pool: string;
  readonly healthScore: number;
  readonly rule: ChoiceRule;
}

/**
 * The broker's health picture of the fleet's proxies, from client feedback and egress checks, and the choice of a
 * proxy for a lease. Pure: the clock and randomness are passed in; the README (Broker: health rules) states them.
 */
export class BrokerHealth {
  readonly #records: RecentMap<string, ProxyRecord>;
  readonly #exchanges: ExchangeRecords;
  #pools = new Map<string, readonly string[]>();
  #poolOf = new Map<string, string>();

  constructor(
    private readonly settings: BrokerHealthSettings,
    private readonly now: () => number,
    private readonly random: () => number,
  ) {
    this.#records = new RecentMap(settings.maxProxies);
    this.#exchanges = new ExchangeRecords(settings);
  }

  /** The fleet's proxies now. Records of proxies gone are kept (until the bound) in case they come back. */
  setFleet(proxies: readonly FleetProxy[]): void {
    this.#poolOf = new Map(proxies.map(({ proxyId, pool }) => [proxyId, pool]));
    const pools = new Map<string, string[]>();
    for (const [proxyId, pool] of this.#poolOf) {
      const members = pools.get(pool);
      if (members) members.push(proxyId);
      else pools.set(pool, [proxyId]);
    }
    this.#pools = pools;
  }

  feedback(item: ProxyFeedback): JudgedClass {
    if (!this.#poolOf.has(item.proxyId)) return 'unknown_proxy';
    const record = this.#record(item.proxyId);
    if (item.event === 'connect' && outcomeClass(item) === 'success') record.open++;
    if (item.event === 'release') record.open = Math.max(0, record.open - 1);
    const judged = this.#judge(item.proxyId, outcomeClass(item), item.exchangeId);
    if (judged === 'success') this.#success(item.proxyId, record, item.latencyMs);
    if (judged === 'proxy_fault') this.#fault(item.proxyId, record);
    if (judged === 'target_block') record.blocks++;
    return judged;
  }

  /** An egress check feeds the same score and ejection as a client's success or proxy fault. */
  egressCheck(check: EgressCheckOutcome): JudgedClass {
    if (!this.#poolOf.has(check.proxyId)) return 'unknown_proxy';
    const record = this.#record(check.proxyId);
    if (check.ok) this.#success(check.proxyId, record, check.latencyMs);
    else this.#fault(check.proxyId, record);
    return check.ok ? 'success' : 'proxy_fault';
  }

  /**
   * The proxy for a new lease, or null when no candidate may take one (all ejected or unknown). Call it only for a
   * lease that will be handed out: a trial lease is counted here.
   */
  choose(request: LeaseRequest): LeaseChoice | null {
    const now = this.now();
    const eligible: Candidate[] = [];
    for (const proxyId of new Set(request.candidates)) {
      if (!this.#poolOf.has(proxyId)) continue;
      const record = this.#records.get(proxyId);
      const ejection = record?.ejection ?? NOT_EJECTED;
      const phase = ejectionPhase(ejection, now);
      const trial = trialOpen(ejection, this.settings, now);
      if (phase === 'ejected' || (phase === 'trial' && !trial)) continue;
      eligible.push({ proxyId, score: this.#score(record, now), openConnections: record?.open ?? 0, trial });
    }
    const { exchangeId } = request;
    // A block narrows the choice but never empties it: a blocked proxy beats none.
    const unblocked =
      exchangeId === null
        ? eligible
        : eligible.filter(({ proxyId }) => !this.#exchanges.blocked(exchangeId, proxyId, now));
    const choice = chooseProxy(
      unblocked.length > 0 ? unblocked : eligible,
      request.connectionType === 'websocket',
      this.random,
    );
    if (!choice) return null;
    const { proxyId, score } = choice.candidate;
    if (choice.rule === 'trial') {
      const record = this.#record(proxyId);
      record.ejection = withTrialLease(record.ejection, this.settings, now);
    }
    return { proxyId, pool: this.#poolOf.get(proxyId) ?? '', healthScore: round3(score), rule: choice.rule };
  }

  /** May a sticky lease keep `proxyId`: in the fleet, not ejected nor on trial, not blocked by the exchange. */
  usable(proxyId: string, exchangeId: string | null): boolean {
    if (!this.#poolOf.has(proxyId)) return false;
    const now = this.now();
    const ejection = this.#records.get(proxyId)?.ejection ?? NOT_EJECTED;
    if (ejectionPhase(ejection, now) !== 'active') return false;
    return exchangeId === null || !this.#exchanges.blocked(exchangeId, proxyId, now);
  }

  /** Ejections in a row of a proxy (0: never ejected, or forgiven since): how persistent its faults are. */
  ejectionsOf(proxyId: string): number {
    return this.#records.get(proxyId)?.ejection.ejections ?? 0;
  }

  /** A proxy's health score now (3 decimals), as `choose` and the snapshot see it. */
  scoreOf(proxyId: string): number {
    return round3(this.#score(this.#records.get(proxyId), this.now()));
  }

  snapshot(): HealthSnapshot {
    const now = this.now();
    const proxies = [...this.#poolOf]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([proxyId, pool]) => proxyView(proxyId, pool, this.#records.get(proxyId), this.settings, now));
    const pools = [...this.#pools.keys()].sort().map((pool) =>
      poolView(
        pool,
        proxies.filter((proxy) => proxy.pool === pool),
      ),
    );
    return { version: 1, at: new Date(now).toISOString(), pools, proxies, exchanges: this.#exchanges.size };
  }

  /** The exchange rule: a failure with an exchange id may be the exchange's, counting against no proxy. */
  #judge(proxyId: string, outcome: OutcomeClass, exchangeId: string | null): JudgedClass {
    if (exchangeId === null) return outcome;
    const now = this.now();
    if (outcome === 'success') this.#exchanges.success(exchangeId, proxyId);
    if (outcome === 'success' || outcome === 'none') return outcome;
    if (this.#exchanges.failure(exchangeId, proxyId, now)) return 'exchange_failure';
    if (outcome === 'target_block') this.#exchanges.block(exchangeId, proxyId, now, this.random());
    return outcome;
  }

  #success(proxyId: string, record: ProxyRecord, latencyMs: number | null): void {
    const now = this.now();
    record.successes++;
    record.score = observe(record.score, this.settings, now, true, latencyMs);
    record.ejection = afterSuccess(record.ejection, now);
    this.#records.set(proxyId, record);
  }

  #fault(proxyId: string, record: ProxyRecord): void {
    const now = this.now();
    record.faults++;
    record.score = observe(record.score, this.settings, now, false, null);
    record.ejection = afterFault(record.ejection, this.settings, now, this.random(), this.#poolHasRoom(proxyId, now));
    this.#records.set(proxyId, record);
  }

  /**
   * Fewer than half (rounded down) of the proxy's pool out, itself not counted: out is cooling down or on trial
   * (a proxy on trial takes only its trial leases, so it is not carrying the pool's load yet).
   */
  #poolHasRoom(proxyId: string, now: number): boolean {
    const members = this.#pools.get(this.#poolOf.get(proxyId) ?? '') ?? [proxyId];
    const cap = Math.floor(members.length / 2);
    let out = 0;
    for (const member of members) {
      const ejection = member === proxyId ? undefined : this.#records.get(member)?.ejection;
      if (ejection && ejectionPhase(ejection, now) !== 'active' && ++out >= cap) return false;
    }
    return out < cap;
  }

  #record(proxyId: string): ProxyRecord {
    const record = this.#records.get(proxyId) ?? newProxyRecord(this.now());
    this.#records.set(proxyId, record);
    return record;
  }

  #score(record: ProxyRecord | undefined, now: number): number {
    return record ? proxyScore(record.score, this.settings, now) : 1;
  }
}
