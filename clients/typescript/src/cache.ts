/**
 * The answers cache: one entry per (exchange, connection type, region) exactly as given. An entry is fresh until
 * `freshUntil`, then served as stale until `staleUntil` while one background refresh runs. Times are monotonic ms.
 * At most `maxEntries`: beyond, entries past their stale window go first, then the oldest (Map order is insertion
 * order, and an entry replaced is moved to the end).
 */
export interface CacheEntry<T> {
  readonly freshUntil: number;
  readonly staleUntil: number;
  /** What a fresh hit gives, and the same thing already resolved (a hit allocates nothing). */
  readonly fresh: T;
  readonly stale: T;
  readonly freshPromise: Promise<T> | null;
  readonly stalePromise: Promise<T> | null;
  refreshing: boolean;
  retryAt: number;
}

export const cacheKey = (exchangeId: string, connectionType: string, region: string): string =>
  `${exchangeId}\u0000${connectionType}\u0000${region}`;

export class AnswerCache<T> {
  readonly #entries = new Map<string, CacheEntry<T>>();

  constructor(private readonly maxEntries: number) {}

  get size(): number {
    return this.#entries.size;
  }

  get(key: string): CacheEntry<T> | undefined {
    return this.#entries.get(key);
  }

  /** `resolved`: whether a hit may hand out one resolved promise (true for values, false for errors to raise). */
  set(key: string, now: number, ttlMs: number, staleMs: number, fresh: T, stale: T, resolved: boolean): void {
    if (!this.#entries.has(key) && this.#entries.size >= this.maxEntries) this.#prune(now);
    this.#entries.delete(key);
    this.#entries.set(key, {
      freshUntil: now + ttlMs,
      staleUntil: now + ttlMs + staleMs,
      fresh,
      stale,
      freshPromise: resolved ? Promise.resolve(fresh) : null,
      stalePromise: resolved ? Promise.resolve(stale) : null,
      refreshing: false,
      retryAt: 0,
    });
  }

  #prune(now: number): void {
    for (const [key, entry] of this.#entries) if (entry.staleUntil <= now) this.#entries.delete(key);
    for (const key of this.#entries.keys()) {
      if (this.#entries.size < this.maxEntries) break;
      this.#entries.delete(key);
    }
  }
}
