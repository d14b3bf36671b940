import type { Logger } from '../logger.js';

/** A container or proxy directory that looks managed but whose labels or record cannot be trusted. */
export interface IgnoredObject {
  /** A container id, or the proxy directory of a process record. */
  readonly id: string;
  /** Which label or field is wrong, and how. */
  readonly reason: string;
}

/**
 * What the latest list() of a runtime skipped. Each object is logged as a warning once (list runs on every
 * pass and API request), and stays counted for as long as it is there.
 */
export class IgnoredObjects {
  private latest: readonly IgnoredObject[] = [];
  private readonly warned = new Set<string>();

  constructor(
    private readonly log: Logger,
    private readonly runtime: string,
  ) {}

  /** Replaces the set with what one list() found. */
  record(found: readonly IgnoredObject[]): void {
    this.latest = found;
    const seen = new Set<string>();
    for (const object of found) {
      const key = `${object.id}\0${object.reason}`;
      seen.add(key);
      if (!this.warned.has(key))
        this.log.warn('ignoring an object with invalid torfleet labels', { runtime: this.runtime, ...object });
    }
    this.warned.clear();
    for (const key of seen) this.warned.add(key);
  }

  current(): readonly IgnoredObject[] {
    return this.latest;
  }
}
