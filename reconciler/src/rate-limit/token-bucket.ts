/** Requests a key may make: `perSecond` on average, up to `burst` at once. */
export interface RateLimit {
  readonly perSecond: number;
  readonly burst: number;
}

export type RateDecision = { readonly allowed: true } | { readonly allowed: false; readonly retryAfterSeconds: number };

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Token buckets by key (a client's name, a peer address), pure: the clock is passed in. A key's bucket starts
 * full and refills at `perSecond`; a request takes one token, or is refused with the whole seconds until one is
 * there (the `Retry-After` to send, at least 1). At most `maxKeys` buckets are kept, the least recently used
 * forgotten first, so many keys cannot grow it without bound (a forgotten key starts full again).
 */
export class RateLimiter {
  readonly #buckets = new Map<string, Bucket>();

  constructor(
    private readonly limit: RateLimit,
    private readonly now: () => number,
    private readonly maxKeys = 10_000,
  ) {
    if (!(limit.perSecond > 0) || !(limit.burst >= 1)) {
      throw new RangeError(`a rate limit needs perSecond > 0 and burst >= 1 (got ${limit.perSecond}/${limit.burst})`);
    }
  }

  take(key: string): RateDecision {
    const now = this.now();
    const { perSecond, burst } = this.limit;
    const bucket = this.#buckets.get(key) ?? { tokens: burst, at: now };
    this.#buckets.delete(key);
    this.#buckets.set(key, bucket); // most recently used last
    if (this.#buckets.size > this.maxKeys) {
      const oldest = this.#buckets.keys().next().value;
      if (oldest !== undefined) this.#buckets.delete(oldest);
    }
    bucket.tokens = Math.min(burst, bucket.tokens + (Math.max(0, now - bucket.at) / 1000) * perSecond);
    bucket.at = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true };
    }
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / perSecond)) };
  }

  /** Keys with a bucket now (at most `maxKeys`). */
  get size(): number {
    return this.#buckets.size;
  }
}
