import type { CooldownSettings } from '../../health/cooldown.js';

/** Every number of the broker's health model (README, Broker: health rules, says what each one does to a proxy). */
export interface BrokerHealthSettings {
  /** An observation's weight halves every `halfLifeMs` (success rate and latency both). */
  readonly halfLifeMs: number;
  /** The success rate starts as if from this many successes that never fade (so old faults are forgiven). */
  readonly priorSuccesses: number;
  /** The latency at which the latency factor of the score is 0.5 (score = rate × scale / (scale + latency)). */
  readonly latencyScaleMs: number;
  /** Proxy faults in a row that eject a proxy. */
  readonly faultsToEject: number;
  /** The ejection cool-down: 30 s doubling per ejection in a row, at most 10 min, up to 20 % shorter. */
  readonly ejection: CooldownSettings;
  /** Back this long without another ejection, a proxy's ejections in a row are forgotten (next one: 30 s). */
  readonly forgiveAfterMs: number;
  /** Leases a proxy gets at once after its cool-down, before one of them (or an egress check) decides. */
  readonly trialLeases: number;
  /** A trial lease without an outcome after this long frees its place for another. */
  readonly trialLeaseTimeoutMs: number;
  /** How long a block (401/403/429) keeps a proxy from that exchange: a ladder of its own. */
  readonly block: CooldownSettings;
  /** Failures of one exchange through this many different proxies, within `exchangeWindowMs`: the exchange. */
  readonly exchangeProxies: number;
  readonly exchangeWindowMs: number;
  /** Exchanges remembered at most (failures and blocks); the least recently reported is forgotten first. */
  readonly maxExchanges: number;
  /** Blocked proxies remembered per exchange; the oldest block is forgotten first. */
  readonly maxBlocksPerExchange: number;
  /** Proxies remembered at most (a proxy gone from the fleet is kept for its return); oldest forgotten first. */
  readonly maxProxies: number;
}

export const DEFAULT_BROKER_HEALTH: BrokerHealthSettings = {
  halfLifeMs: 5 * 60_000,
  priorSuccesses: 1,
  latencyScaleMs: 1_000,
  faultsToEject: 3,
  ejection: { baseCooldownMs: 30_000, maxCooldownMs: 10 * 60_000, jitterRatio: 0.2 },
  forgiveAfterMs: 10 * 60_000,
  trialLeases: 2,
  trialLeaseTimeoutMs: 60_000,
  block: { baseCooldownMs: 30_000, maxCooldownMs: 10 * 60_000, jitterRatio: 0.2 },
  exchangeProxies: 3,
  exchangeWindowMs: 2 * 60_000,
  maxExchanges: 10_000,
  maxBlocksPerExchange: 64,
  maxProxies: 10_000,
};
