/**
 * Runs `run` on every item, at most `limit` at a time, in the items' order of start; resolves when all
 * have finished. A `run` that throws stops new items from starting: the pool rejects with the first error
 * once the running ones have settled, so nothing is left running behind the caller's back.
 */
export async function forEachConcurrently<T>(
  items: readonly T[],
  limit: number,
  run: (item: T) => Promise<void>,
): Promise<void> {
  if (!Number.isInteger(limit) || limit < 1) {
    throw new RangeError(`forEachConcurrently: the limit must be a positive integer, not ${String(limit)}`);
  }
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (next < items.length && !failure) {
      const item = items[next++] as T;
      try {
        await run(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
}
