import { cooldownMs, type CooldownSettings } from '../../health/cooldown.js';
import { RecentMap } from './recent-map.js';

/** The settings the exchange records read (BrokerHealthSettings has them all). */
export interface ExchangeSettings {
  readonly exchangeProxies: number;
  readonly exchangeWindowMs: number;
  readonly maxExchanges: number;
  readonly maxBlocksPerExchange: number;
  readonly block: CooldownSettings;
}

interface Block {
  /** Blocks in a row of this proxy by this exchange: the next one lasts base × 2^blocks. */
  readonly blocks: number;
  readonly until: number;
}

interface ExchangeRecord {
  /** The last failure through each of the most recent `exchangeProxies` distinct proxies, oldest first. */
  readonly failures: RecentMap<string, number>;
  readonly blocks: RecentMap<string, Block>;
}

/**
 * What each exchange did lately: its recent failures by proxy (for the exchange rule) and the proxies it blocks.
 * Bounded: `maxExchanges` exchanges (the least recently reported forgotten first), `exchangeProxies` failures
 * and `maxBlocksPerExchange` blocks each, so any number of distinct exchange ids takes bounded memory.
 */
export class ExchangeRecords {
  readonly #exchanges: RecentMap<string, ExchangeRecord>;

  constructor(private readonly settings: ExchangeSettings) {
    this.#exchanges = new RecentMap(settings.maxExchanges);
  }

  /**
   * Records a failure of `exchange` seen through `proxy`; true when, with it, failures were seen through at least
   * `exchangeProxies` different proxies within `exchangeWindowMs`: the exchange failed, not the proxies. Its
   * blocks are then lifted (they were the exchange's too).
   */
  failure(exchange: string, proxy: string, now: number): boolean {
    const record = this.#touch(exchange);
    record.failures.set(proxy, now);
    const recent = [...record.failures.keys()].filter(
      (key) => now - (record.failures.get(key) ?? -Infinity) < this.settings.exchangeWindowMs,
    );
    const theExchange = recent.length >= this.settings.exchangeProxies;
    if (theExchange) for (const key of [...record.blocks.keys()]) record.blocks.delete(key);
    return theExchange;
  }

  /** Blocks `proxy` for `exchange` for the block ladder's next step (`random` for its jitter); returns how long. */
  block(exchange: string, proxy: string, now: number, random: number): number {
    const record = this.#touch(exchange);
    const blocks = record.blocks.get(proxy)?.blocks ?? 0;
    const ms = cooldownMs(this.settings.block, blocks, random);
    record.blocks.set(proxy, { blocks: blocks + 1, until: now + ms });
    return ms;
  }

  /** A success of `exchange` through `proxy` lifts its block there. */
  success(exchange: string, proxy: string): void {
    this.#exchanges.get(exchange)?.blocks.delete(proxy);
  }

  blocked(exchange: string, proxy: string, now: number): boolean {
    return (this.#exchanges.get(exchange)?.blocks.get(proxy)?.until ?? 0) > now;
  }

  /** Exchanges remembered now. */
  get size(): number {
    return this.#exchanges.size;
  }

  #touch(exchange: string): ExchangeRecord {
    const record = this.#exchanges.get(exchange) ?? {
      failures: new RecentMap<string, number>(Math.max(1, this.settings.exchangeProxies)),
      blocks: new RecentMap<string, Block>(this.settings.maxBlocksPerExchange),
    };
    this.#exchanges.set(exchange, record);
    return record;
  }
}
