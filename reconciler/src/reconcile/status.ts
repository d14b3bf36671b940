import type { ErrorDisposition } from '../errors.js';
import type { Plan, PlannedChange } from '../plan/plan-types.js';

export type ConditionType = 'Ready' | 'Reconciling' | 'Stalled';
export type ConditionStatus = 'True' | 'False' | 'Unknown';

/**
 * Why a condition is what it is: a fixed list, so alerts and scripts can match on it (and metrics label
 * every one at start).
 */
export const CONDITION_REASONS = [
  'Initializing', // no pass finished yet
  'Progressing', // a pass is running
  'Succeeded', // the proxies match the fleet
  'InvalidFleet', // the fleet file is invalid: needs a commit (Stalled)
  'Shortfall', // not enough eligible exits for every proxy
  'ApplyFailed', // some changes failed; retried with backoff
  'ImageMissing', // the tor image is not on the Docker engine: run make image (Stalled)
  'TorrcInvalid', // tor refuses a proxy's torrc: fix the template or the fleet's tor settings (Stalled)
  'TorMissing', // the tor binary is not installed (Stalled)
  'RuntimeConflict', // a container in the way that torfleet did not make (Stalled)
  'NodeDataUnavailable', // the node database is empty or cannot be read
  'SourceUnavailable', // the fleet repository or file cannot be read
  'RuntimeUnavailable', // the Docker engine (or process runtime) failed
  'PassTimeout', // the pass ran past TORFLEET_PASS_TIMEOUT and was abandoned
  'ReconcileError', // anything else
] as const;
export type ConditionReason = (typeof CONDITION_REASONS)[number];

export const CONDITION_TYPES: readonly ConditionType[] = ['Ready', 'Reconciling', 'Stalled'];

export interface Condition {
  readonly type: ConditionType;
  readonly status: ConditionStatus;
  readonly reason: ConditionReason;
  readonly message: string;
  readonly lastTransitionTime: string;
}

export type PassOutcome = 'converged' | 'partial' | 'stalled' | 'failed';

/** One pass, as `GET /status` lists the last ones. */
export interface PassRecord {
  readonly trigger: string;
  readonly revision: string | null;
  readonly startedAt: string;
  readonly durationMs: number;
  readonly outcome: PassOutcome;
  readonly reason: ConditionReason;
  readonly message: string;
  /**
   * The stable code of the error that decided the pass's next step (TorfleetError codes, or the cause's
   * own such as SQLITE_CORRUPT): the pass's error, or a failed change's; null when none.
   */
  readonly errorCode: string | null;
  /** That error's disposition: `stalled` waits for the next event, `waiting` retries after a delay, `generic` backs off. */
  readonly disposition: ErrorDisposition | null;
  /** When the controller tries again by itself (backoff or a waiting delay); null when only an event starts the next pass. */
  readonly retryInMs: number | null;
  /** The plan's changes (no-ops left out) with their outcome; a failed one has its error's message, code and disposition. */
  readonly changes: readonly PassChange[];
  readonly shortfalls: Plan['shortfalls'];
}

export interface PassChange {
  readonly proxy: string;
  readonly action: PlannedChange['action'];
  readonly reason: PlannedChange['reason'];
  readonly error?: string;
  readonly code?: string;
  readonly disposition?: ErrorDisposition;
}

export interface ControllerStatus {
  readonly lastAppliedRevision: string | null;
  readonly lastAttemptedRevision: string | null;
  readonly conditions: readonly Condition[];
  readonly passes: readonly PassRecord[];
  /** The proxies torfleet owns after the last pass: wanted ones with their spec, by name. */
  readonly inventory: readonly { name: string; pool: string; specHash: string }[];
}

/**
 * Whether the controller can still make progress (what `GET /healthz` answers). Not live when passes are
 * due but none has made progress (ended in anything but `failed`) for longer than `boundMs`.
 */
export interface Liveness {
  readonly live: boolean;
  /** `Progressing`: passes make progress; `Idle`: none due; `NoProgress`: every recent pass failed; `Wedged`: one pass runs past the bound. */
  readonly reason: 'Progressing' | 'Idle' | 'NoProgress' | 'Wedged';
  readonly message: string;
  /** The end of the last pass that made progress (or the controller's start). */
  readonly lastProgressAt: string;
  readonly boundMs: number;
}
