/** Restart delays of a failed runnable: base·2^(n-1) for its n-th failure in a row, at most max. */
export interface Backoff {
  readonly baseMs: number;
  readonly maxMs: number;
}

/** 1 s, 2 s, 4 s ... at most a minute; a runnable that ran a minute before failing starts again at 1 s. */
export const DEFAULT_BACKOFF: Backoff = { baseMs: 1000, maxMs: 60_000 };

export function restartDelayMs(backoff: Backoff, consecutiveFailures: number): number {
  const exponent = Math.min(Math.max(consecutiveFailures - 1, 0), 30);
  return Math.min(backoff.maxMs, backoff.baseMs * 2 ** exponent);
}
