interface Waiter {
  readonly bytes: number;
  readonly resolve: () => void;
  readonly signal: AbortSignal | undefined;
}

/**
 * A token bucket shared by all of the seeder's peers: `take(n)` resolves when n bytes may be sent, in the order
 * asked (so peers take turns). A take larger than the burst waits only for a full bucket and leaves it in debt,
 * so any block size passes and the long-run rate still holds. Rate 0 means unlimited: every take resolves at once.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;
  private readonly waiters: Waiter[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly bytesPerSecond: number,
    private readonly burst: number,
    private readonly clock: () => number = Date.now,
  ) {
    this.tokens = burst;
    this.last = clock();
  }

  /** Resolves when `bytes` may go; at once (taking nothing) when `signal` is or becomes aborted first. */
  take(bytes: number, signal?: AbortSignal): Promise<void> {
    if (this.bytesPerSecond === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const onAbort = (): void => {
        this.drain();
      };
      signal?.addEventListener('abort', onAbort);
      this.waiters.push({
        bytes,
        signal,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort); // a peer's signal sees one take per block
          resolve();
        },
      });
      this.drain();
    });
  }

  /** Lets every waiter go (the seeder is closing). */
  close(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    for (const waiter of this.waiters.splice(0)) waiter.resolve();
  }

  private drain(): void {
    this.refill();
    for (const waiter of this.waiters.filter((w) => w.signal?.aborted === true)) {
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
    let head = this.waiters[0];
    while (head !== undefined && this.tokens >= Math.min(head.bytes, this.burst)) {
      this.tokens -= head.bytes;
      this.waiters.shift();
      head.resolve();
      head = this.waiters[0];
    }
    if (head !== undefined && this.timer === null) {
      const missing = Math.min(head.bytes, this.burst) - this.tokens;
      this.timer = setTimeout(
        () => {
          this.timer = null;
          this.drain();
        },
        Math.max(1, Math.ceil((missing / this.bytesPerSecond) * 1000)),
      );
    }
  }

  private refill(): void {
    const now = this.clock();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.bytesPerSecond) / 1000);
    this.last = now;
  }
}
