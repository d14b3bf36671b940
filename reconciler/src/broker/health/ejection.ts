import { cooldownMs, type CooldownSettings } from '../../health/cooldown.js';

/** The settings ejection reads (BrokerHealthSettings has them all). */
export interface EjectionSettings {
  readonly faultsToEject: number;
  readonly ejection: CooldownSettings;
  readonly forgiveAfterMs: number;
  readonly trialLeases: number;
  readonly trialLeaseTimeoutMs: number;
}

/** One proxy's ejection state: a plain value, replaced on each event. */
export interface EjectionState {
  /** Proxy faults since the last success. */
  readonly faultsInRow: number;
  /** Ejections in a row (forgotten once back for `forgiveAfterMs`): the next cool-down is base × 2^ejections. */
  readonly ejections: number;
  /** Cooling down until then (ms); 0: never ejected. */
  readonly ejectedUntil: number;
  /** Ejected since its last success: once cooled down, it gets only trial leases until an outcome decides. */
  readonly trial: boolean;
  /** When each trial lease still waiting for an outcome was handed out. */
  readonly trialLeases: readonly number[];
  /** It reached the ejection threshold while half its pool was already ejected: kept in, the pool degraded. */
  readonly heldByCap: boolean;
  /** When a trial success last brought it back; null: never ejected, or not since it was forgiven. */
  readonly returnedAt: number | null;
}

export const NOT_EJECTED: EjectionState = {
  faultsInRow: 0,
  ejections: 0,
  ejectedUntil: 0,
  trial: false,
  trialLeases: [],
  heldByCap: false,
  returnedAt: null,
};

/** `ejected`: cooling down, no leases; `trial`: cooled down, trial leases only; `active`: any lease. */
export type EjectionPhase = 'active' | 'ejected' | 'trial';

export function ejectionPhase(state: EjectionState, now: number): EjectionPhase {
  if (state.ejectedUntil > now) return 'ejected';
  return state.trial ? 'trial' : 'active';
}

/**
 * A success: the fault count starts again, and a proxy on trial is back. A success reported during the cool-down
 * (a late report of an earlier lease) ends nothing early: the trial after the cool-down still decides.
 */
export function afterSuccess(state: EjectionState, now: number): EjectionState {
  if (ejectionPhase(state, now) === 'trial') {
    return { ...state, faultsInRow: 0, trial: false, trialLeases: [], returnedAt: now };
  }
  return { ...state, faultsInRow: 0, heldByCap: false };
}

/**
 * A proxy fault. `faultsToEject` in a row eject the proxy, and so does one fault on trial; the cool-down is the
 * ladder's next step (`random` in [0, 1) for its jitter). `poolHasRoom` false (half the pool is out already):
 * not ejected but held by the cap, eligible for any lease. A fault during the cool-down (a late report) does not escalate.
 */
export function afterFault(
  state: EjectionState,
  settings: EjectionSettings,
  now: number,
  random: number,
  poolHasRoom: boolean,
): EjectionState {
  const counted = { ...state, faultsInRow: state.faultsInRow + 1 };
  const phase = ejectionPhase(state, now);
  if (phase === 'ejected') return counted;
  if (phase === 'active' && counted.faultsInRow < settings.faultsToEject) return counted;
  if (!poolHasRoom) return { ...counted, heldByCap: true, trial: false };
  const forgiven = state.returnedAt !== null && now - state.returnedAt >= settings.forgiveAfterMs;
  const before = forgiven ? 0 : state.ejections;
  return {
    ...counted,
    ejections: before + 1,
    ejectedUntil: now + cooldownMs(settings.ejection, before, random),
    trial: true,
    trialLeases: [],
    heldByCap: false,
    returnedAt: forgiven ? null : state.returnedAt,
  };
}

/** Trial leases still waiting for an outcome at `now` (older ones time out and free their place). */
function pendingTrials(state: EjectionState, settings: EjectionSettings, now: number): number[] {
  return state.trialLeases.filter((at) => now - at < settings.trialLeaseTimeoutMs);
}

/** On trial with a trial lease free: it may be given one more lease now. */
export function trialOpen(state: EjectionState, settings: EjectionSettings, now: number): boolean {
  return ejectionPhase(state, now) === 'trial' && pendingTrials(state, settings, now).length < settings.trialLeases;
}

/** The state after a trial lease is handed out at `now`. */
export function withTrialLease(state: EjectionState, settings: EjectionSettings, now: number): EjectionState {
  return { ...state, trialLeases: [...pendingTrials(state, settings, now), now] };
}
