/**
 * A scrape must not fail because one source cannot be read (a corrupt node database, Docker away): that
 * gauge keeps its last value, the reason shows in /status and /healthz.
 */
export function unlessThrowing<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

export async function unlessFailing<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch {
    return undefined;
  }
}
