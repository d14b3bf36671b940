/**
 * Exponential backoff with equal jitter (half fixed, half random), in one place for the breakers and the rounds
 * over the endpoints: `min(cap, base * 2^(attempt-1))`, then a value in [delay/2, delay].
 */
export function backoffDelay(attempt: number, base: number, cap: number, random: () => number = Math.random): number {
  const delay = Math.min(cap, base * 2 ** Math.max(0, attempt - 1));
  return delay / 2 + random() * (delay / 2);
}

/** Between two rounds over the endpoints within one call: 50 ms doubling up to 400 ms (as the Python client). */
export const ROUND_BASE_MS = 50;
export const ROUND_MAX_MS = 400;

/** A pause inside a call the caller awaits (so it keeps the process alive, unlike the client's own timers). */
export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    setTimeout(resolve, Math.max(0, ms));
  });
