/**
 * Which proxies to restart because their tor makes no bootstrap progress: pure (observations + clock in,
 * decisions and the next state out). The side effects (reading the ControlSockets, removing the proxies)
 * are the caller's.
 */

/** What one health check saw of one running proxy. */
export interface BootstrapObservation {
  readonly proxy: string;
  /** The running instance (container id, process record): a new instance starts its clock afresh. */
  readonly instance: string;
  /** Bootstrap percent its tor reported; null when it did not answer on its ControlSocket. */
  readonly bootstrap: number | null;
}

export interface WatchdogPolicy {
  /** A tor below 100% whose progress has not moved for this long is stuck. */
  readonly stuckAfterMs: number;
  /** At most this many restarts per proxy within `windowMs`; then it is left alone (out of budget). */
  readonly maxRestarts: number;
  readonly windowMs: number;
}

export const RESTART_WINDOW_MS = 3_600_000;

/** What the watchdog remembers of one proxy. */
export interface ProxyWatch {
  readonly instance: string | null;
  /** The highest progress this instance reported (-1 before it answered). */
  readonly progress: number;
  /** When that progress was first seen (or the instance first seen): the stuck clock. */
  readonly progressAt: number;
  /** When it was restarted, within the window (oldest first). */
  readonly restarts: readonly number[];
  /** Stuck with its budget spent: left alone and reported. */
  readonly outOfBudget: boolean;
}

export type WatchdogState = ReadonlyMap<string, ProxyWatch>;

export interface WatchdogDecision {
  readonly state: WatchdogState;
  /** Stuck proxies with budget left: restart them now. */
  readonly restart: readonly string[];
  /** Proxies whose budget ran out on this tick (reported once each time it happens). */
  readonly newlyOutOfBudget: readonly string[];
}

/**
 * A tor is stuck when it answers, is below 100%, and its progress has not risen for `stuckAfterMs` since
 * the higher of (its instance first seen, its last progress). A tor that does not answer is shown in its
 * health but never restarted for it: the runtime and the planner already handle a dead tor (container_dead),
 * and an unreadable ControlSocket must not make every proxy restart. Proxies not observed keep their restart
 * history while it is in the window (a restarted proxy is missing until the next pass recreates it).
 */
export function decideRestarts(
  state: WatchdogState,
  observations: readonly BootstrapObservation[],
  now: number,
  policy: WatchdogPolicy,
): WatchdogDecision {
  const next = new Map<string, ProxyWatch>();
  const restart: string[] = [];
  const newlyOutOfBudget: string[] = [];
  const recent = (watch: ProxyWatch | undefined): number[] =>
    (watch?.restarts ?? []).filter((at) => now - at < policy.windowMs);
  const seen = new Set<string>();
  for (const { proxy, instance, bootstrap } of observations) {
    seen.add(proxy);
    const previous = state.get(proxy);
    const restarts = recent(previous);
    const same = previous?.instance === instance;
    const progress = bootstrap ?? -1;
    let watch: ProxyWatch =
      same && progress <= previous.progress
        ? { ...previous, restarts }
        : {
            instance,
            progress: Math.max(progress, same ? previous.progress : -1),
            progressAt: now,
            restarts,
            outOfBudget: false,
          };
    const stuck = bootstrap !== null && watch.progress < 100 && now - watch.progressAt >= policy.stuckAfterMs;
    if (!stuck) {
      watch = { ...watch, outOfBudget: false };
    } else if (restarts.length < policy.maxRestarts) {
      restart.push(proxy);
      watch = { ...watch, progressAt: now, restarts: [...restarts, now], outOfBudget: false };
    } else {
      if (!watch.outOfBudget) newlyOutOfBudget.push(proxy);
      watch = { ...watch, outOfBudget: true };
    }
    next.set(proxy, watch);
  }
  for (const [proxy, watch] of state) {
    if (seen.has(proxy)) continue;
    const restarts = recent(watch);
    if (restarts.length > 0) next.set(proxy, { ...watch, restarts, outOfBudget: false });
  }
  return { state: next, restart, newlyOutOfBudget };
}
