import { ConfigError } from './errors.js';
import { DURATION_EXAMPLES, parseDuration } from './duration.js';

/** Parsers of setting values: each refusal a ConfigError naming the setting and what to use. */

/** `90s`, `15m`, `3h`, `2d` → milliseconds (the grammar of `duration.ts`); a ConfigError naming the setting. */
export function parseDurationSetting(name: string, text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw new ConfigError(`${name} is "${text}"; use ${DURATION_EXAMPLES}`);
  return ms;
}

/** A whole number from 0 to `max`. */
export function parseCountSetting(name: string, text: string, max: number): number {
  // At most as many digits as `max` has (a 1,000,000 maximum takes 1000000; nothing longer is even parsed).
  const value = /^[0-9]+$/.test(text) && text.length <= String(max).length ? Number(text) : Number.NaN;
  if (!(value <= max)) throw new ConfigError(`${name} is "${text}"; use a whole number from 0 to ${max}`);
  return value;
}

/** `0.5` or `50%` → 0.5; from 0 (refuse any drop) to 1 (never refuse a drop). */
export function parseShareSetting(name: string, text: string): number {
  const match = /^([0-9]+(?:\.[0-9]+)?)(%?)$/.exec(text);
  const value = match ? Number(match[1]) / (match[2] === '%' ? 100 : 1) : Number.NaN;
  if (!(value >= 0 && value <= 1)) {
    throw new ConfigError(`${name} is "${text}"; use a share from 0 to 1 such as 0.5, or a percentage such as 50%`);
  }
  return value;
}

const SIZE_UNITS: Readonly<Record<string, number>> = { '': 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 };

/** `512MiB`, `10MiB`, `64KiB`, `1GiB` or plain bytes → bytes, from 1 byte to `max`. */
export function parseSizeSetting(name: string, text: string, max: number): number {
  const match = /^([1-9][0-9]{0,9})(KiB|MiB|GiB|)$/.exec(text);
  const value = match ? Number(match[1]) * (SIZE_UNITS[match[2] ?? ''] ?? Number.NaN) : Number.NaN;
  if (!(value <= max)) {
    throw new ConfigError(
      `${name} is "${text}"; use a size such as 64KiB, 10MiB or 1GiB (at most ${String(max)} bytes)`,
    );
  }
  return value;
}

/**
 * `PREFIX_RATE` calls per second per client (default `perSecond`) and `PREFIX_BURST` at once (default twice the
 * rate): a service's per-client rate limit.
 */
export function parseRateSettings(
  prefix: string,
  get: (name: string) => string | undefined,
  perSecondDefault: number,
): { readonly perSecond: number; readonly burst: number } {
  const perSecond = parseCountSetting(`${prefix}_RATE`, get(`${prefix}_RATE`) ?? String(perSecondDefault), 100_000);
  const burst = parseCountSetting(`${prefix}_BURST`, get(`${prefix}_BURST`) ?? String(2 * perSecond), 200_000);
  if (perSecond < 1 || burst < 1) {
    throw new ConfigError(`${prefix}_RATE and ${prefix}_BURST must be at least 1 (requests per second, and at once)`);
  }
  return { perSecond, burst };
}
