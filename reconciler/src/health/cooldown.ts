/** A cool-down ladder: `baseCooldownMs` doubling with each ejection in a row, at most `maxCooldownMs`. */
export interface CooldownSettings {
  readonly baseCooldownMs: number;
  readonly maxCooldownMs: number;
  /** A cool-down is shortened by up to this share, at random, so ejected members do not all return at once. */
  readonly jitterRatio: number;
}

/**
 * The cool-down of an ejection that follows `ejectionsBefore` ejections in a row (0: the first):
 * `min(max, base × 2^ejectionsBefore) × (1 − jitterRatio × random)`, rounded to the millisecond. `random` is in
 * [0, 1): 0 gives the full cool-down, so jitter only ever shortens it and the cap holds.
 */
export function cooldownMs(settings: CooldownSettings, ejectionsBefore: number, random: number): number {
  const { baseCooldownMs, maxCooldownMs, jitterRatio } = settings;
  // A long run of ejections makes 2 ** n Infinity, which the cap turns back into `maxCooldownMs`.
  const full = Math.min(maxCooldownMs, baseCooldownMs * 2 ** Math.max(0, ejectionsBefore));
  return Math.round(full * (1 - jitterRatio * random));
}
