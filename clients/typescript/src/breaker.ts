import { backoffDelay } from './backoff.js';

export type BreakerState = 'closed' | 'open' | 'half_open';

export interface BreakerSettings {
  /** Failures in a row that open the breaker. */
  readonly threshold: number;
  /** First open period, ms (doubles per open in a row). */
  readonly baseMs: number;
  /** Longest open period, ms. */
  readonly maxMs: number;
}

/**
 * One endpoint's circuit breaker: closed -> open for a jittered, doubling period -> half-open, where one probe call
 * is let through (success closes it, failure opens it again for longer). A `hold` (429/503 with Retry-After) keeps
 * the endpoint out of use for a while without counting as a failure. Times are monotonic milliseconds.
 */
export class Breaker {
  failures = 0;
  opens = 0;
  openUntil = 0;
  probing = false;
  notBefore = 0;
  lastError: string | null = null;

  constructor(
    private readonly settings: BreakerSettings,
    private readonly random: () => number = Math.random,
  ) {}

  /** Whether a call may go now; in half-open, the caller that gets true holds the one probe. */
  acquire(now: number): boolean {
    if (now < this.notBefore) return false;
    if (this.openUntil === 0) return true;
    if (now < this.openUntil || this.probing) return false;
    this.probing = true;
    return true;
  }

  /** Whether acquire() would let a call through at `now` (a peek: no probe is taken). */
  usable(now: number): boolean {
    return now >= this.notBefore && (this.openUntil === 0 || (now >= this.openUntil && !this.probing));
  }

  success(): void {
    this.failures = 0;
    this.opens = 0;
    this.openUntil = 0;
    this.probing = false;
    this.lastError = null;
  }

  failure(now: number, error: string): void {
    this.lastError = error;
    this.failures += 1;
    if (this.probing || this.failures >= this.settings.threshold) {
      this.opens += 1;
      this.openUntil = now + backoffDelay(this.opens, this.settings.baseMs, this.settings.maxMs, this.random);
      this.probing = false;
      this.failures = 0;
    }
  }

  /** The call answered with the caller's own mistake (a 4xx): neither a success nor a failure of the endpoint. */
  releaseProbe(): void {
    this.probing = false;
  }

  hold(now: number, ms: number): void {
    this.notBefore = now + ms;
    this.probing = false;
  }

  state(now: number): BreakerState {
    if (this.openUntil === 0) return 'closed';
    return now < this.openUntil ? 'open' : 'half_open';
  }
}
