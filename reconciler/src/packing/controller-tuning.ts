/** The controller's timings and caps, all in one place (defaults below; tests shorten some). */
export interface ControllerTuning {
  /** Circuits one proxy may hold at once (one per SOCKS username/password in use); idle ones go first. */
  readonly maxCircuitsPerProxy: number;
  /** How long a new stream waits for its circuit to be built before it is closed. */
  readonly streamWaitMs: number;
  /** A circuit not built within this is closed and counts as a failure. */
  readonly buildTimeoutMs: number;
  /** Rebuilding a failed proxy's circuit: first retry after this, doubling up to backoffMaxMs. */
  readonly backoffInitialMs: number;
  readonly backoffMaxMs: number;
  /** Renew a circuit when it is this fraction of tor's MaxCircuitDirtiness old (make-before-break). */
  readonly renewFraction: number;
  /** A per-session (SOCKS auth) circuit unused this long is closed. */
  readonly idleCircuitMs: number;
  /** Re-read tor's relays (ns/all) this often. */
  readonly relayRefreshMs: number;
  /** The controller's timer: waits, renewals and retries are checked this often. */
  readonly tickMs: number;
  /** Reconnecting to tor after the control connection ended: first after this, doubling up to 30 s. */
  readonly reconnectInitialMs: number;
}

export const DEFAULT_TUNING: ControllerTuning = {
  maxCircuitsPerProxy: 64,
  streamWaitMs: 5000,
  buildTimeoutMs: 15_000,
  backoffInitialMs: 1000,
  backoffMaxMs: 30_000,
  renewFraction: 0.5,
  idleCircuitMs: 10 * 60_000,
  relayRefreshMs: 10 * 60_000,
  tickMs: 250,
  reconnectInitialMs: 500,
};

/** initial, 2×, 4× ... at most `max`, for the `attempt`-th retry (1-based). */
export function backoffMs(attempt: number, initial: number, max: number): number {
  return Math.min(max, initial * 2 ** Math.max(0, Math.min(attempt - 1, 30)));
}
