/**
 * The one duration grammar of torfleet, for settings (`TORFLEET_*_INTERVAL`, `..._TIMEOUT`, `..._MAX_AGE`) and
 * fleet.yaml (`rotateEvery`): a whole number from 1 to 999999 without sign or leading zero, then a unit,
 * `s`, `m`, `h` or `d`. The fleet schema's `rotateEvery` pattern is this grammar (a test holds them equal).
 */
export const DURATION_PATTERN = /^[1-9][0-9]{0,5}[smhd]$/;

/** Says what to write instead, for the messages of every caller. */
export const DURATION_EXAMPLES = 'a duration such as 90s, 15m, 3h or 2d';

const UNIT_MS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90s`, `15m`, `3h`, `2d` → milliseconds; undefined for anything outside the grammar. */
export function parseDuration(text: string): number | undefined {
  if (!DURATION_PATTERN.test(text)) return undefined;
  const unit = UNIT_MS[text.slice(-1)];
  return unit === undefined ? undefined : Number(text.slice(0, -1)) * unit;
}
