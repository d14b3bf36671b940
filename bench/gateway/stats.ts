/** Order statistics for the gateway bench: nearest-rank percentiles, NaN for an empty sample. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] ?? NaN;
}

/** The median of the finite values; NaN (printed as "–") when no run produced one. */
export function median(values: readonly number[]): number {
  return percentile(
    values.filter((v) => Number.isFinite(v)),
    50,
  );
}
