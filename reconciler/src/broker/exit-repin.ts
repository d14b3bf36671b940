/** When the broker asks the reconciler to re-pin a strict proxy whose exit keeps failing its clients. */
export interface RepinSettings {
  /** Ejections in a row before a re-pin: one bad spell is not enough, a failed comeback is. */
  readonly ejectionsToRepin: number;
  /** How long the failing exits are avoided by the planner (as an egress-check quarantine). */
  readonly avoidMs: number;
  /** Flap suppression: at most one re-pin per proxy in this window, whatever its new exit does. */
  readonly minIntervalMs: number;
}

export const DEFAULT_REPIN: RepinSettings = { ejectionsToRepin: 2, avoidMs: 30 * 60_000, minIntervalMs: 30 * 60_000 };

/** A strict proxy as the re-pin rule sees it. */
export interface RepinCandidate {
  readonly proxyId: string;
  readonly mode: 'strict' | 'flexible' | 'rotating';
  readonly exitFingerprints: readonly string[];
}

/**
 * Exits the planner should avoid because clients keep failing through them: a strict proxy ejected
 * `ejectionsToRepin` times in a row has its pinned exit avoided for `avoidMs` (the planner then pins another, as it
 * does for the egress check's quarantine); the same proxy is re-pinned at most once per `minIntervalMs`, so a proxy
 * whose new exit fails too (the fault is elsewhere) does not flap from exit to exit. Pure: the clock is passed in.
 */
export class ExitRepin {
  readonly #avoided = new Map<string, number>();
  readonly #repinnedAt = new Map<string, number>();

  constructor(
    private readonly settings: RepinSettings,
    private readonly now: () => number,
  ) {}

  /** Considers a proxy after a fault; true when it is to be re-pinned now (its exits avoided from now on). */
  consider(proxy: RepinCandidate, ejections: number): boolean {
    if (proxy.mode !== 'strict' || proxy.exitFingerprints.length === 0) return false;
    if (ejections < this.settings.ejectionsToRepin) return false;
    const now = this.now();
    const last = this.#repinnedAt.get(proxy.proxyId);
    if (last !== undefined && now - last < this.settings.minIntervalMs) return false;
    this.#repinnedAt.set(proxy.proxyId, now);
    for (const fingerprint of proxy.exitFingerprints) this.#avoided.set(fingerprint, now + this.settings.avoidMs);
    return true;
  }

  /** The exits avoided now. */
  avoided(): ReadonlySet<string> {
    const now = this.now();
    for (const [fingerprint, until] of this.#avoided) if (until <= now) this.#avoided.delete(fingerprint);
    for (const [proxyId, at] of this.#repinnedAt)
      if (now - at >= this.settings.minIntervalMs) this.#repinnedAt.delete(proxyId);
    return new Set(this.#avoided.keys());
  }
}
