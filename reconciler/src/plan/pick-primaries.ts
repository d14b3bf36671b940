/** What pickPrimaries needs of an observed unit (a proxy's container, a shared tor). */
export interface ObservedUnit {
  readonly name: string;
  readonly id: string;
  readonly state: string;
}

/** One unit per name: a running one first, then the lowest id; the rest are duplicates. */
export function pickPrimaries<T extends ObservedUnit>(
  observed: readonly T[],
): { primary: Map<string, T>; duplicates: T[] } {
  const sorted = [...observed].sort(
    (a, b) =>
      compare(a.name, b.name) || Number(b.state === 'running') - Number(a.state === 'running') || compare(a.id, b.id),
  );
  const primary = new Map<string, T>();
  const duplicates: T[] = [];
  for (const unit of sorted) {
    if (primary.has(unit.name)) duplicates.push(unit);
    else primary.set(unit.name, unit);
  }
  return { primary, duplicates };
}

export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
