import type { Condition, ControllerStatus, Liveness, PassRecord } from './status.js';

/** The status before any pass: Ready Unknown, nothing reconciling, nothing stalled. */
export function initialStatus(at: string): ControllerStatus {
  return {
    lastAppliedRevision: null,
    lastAttemptedRevision: null,
    conditions: [
      {
        type: 'Ready',
        status: 'Unknown',
        reason: 'Initializing',
        message: 'no pass has finished yet',
        lastTransitionTime: at,
      },
      {
        type: 'Reconciling',
        status: 'False',
        reason: 'Initializing',
        message: 'waiting for the first pass',
        lastTransitionTime: at,
      },
      { type: 'Stalled', status: 'False', reason: 'Initializing', message: '', lastTransitionTime: at },
    ],
    passes: [],
    inventory: [],
  };
}

/** `status` with one condition set; its transition time moves only when its status changes. */
export function withCondition(
  status: ControllerStatus,
  condition: Omit<Condition, 'lastTransitionTime'>,
  at: string,
): ControllerStatus {
  const conditions = status.conditions.map((c) => {
    if (c.type !== condition.type) return c;
    return { ...condition, lastTransitionTime: c.status !== condition.status ? at : c.lastTransitionTime };
  });
  return { ...status, conditions };
}

export interface LivenessInput {
  readonly now: Date;
  readonly lastProgressAt: Date;
  readonly boundMs: number;
  /** A pass is running, queued, or a retry is waiting. */
  readonly due: boolean;
  /** When the running pass started, if one runs. */
  readonly passStartedAt: Date | undefined;
  readonly passes: readonly PassRecord[];
}

/** Not live when passes are due and the last progress is older than the bound; see Controller. */
export function livenessOf(input: LivenessInput): Liveness {
  const { now, lastProgressAt, boundMs, passStartedAt, passes } = input;
  const base = { lastProgressAt: lastProgressAt.toISOString(), boundMs };
  if (!input.due) return { ...base, live: true, reason: 'Idle', message: 'no pass is due' };
  const since = now.getTime() - lastProgressAt.getTime();
  if (since <= boundMs) {
    return { ...base, live: true, reason: 'Progressing', message: `last progress ${seconds(since)} ago` };
  }
  const bound = seconds(boundMs);
  const runningFor = passStartedAt ? now.getTime() - passStartedAt.getTime() : 0;
  if (passStartedAt && runningFor > boundMs) {
    return {
      ...base,
      live: false,
      reason: 'Wedged',
      message: `the controller is wedged: a pass has run for ${seconds(runningFor)}, beyond the liveness bound of ${bound}; restart torfleet`,
    };
  }
  const last = passes[0];
  const cause = last
    ? ` (${passes.filter((p) => p.outcome === 'failed').length} failed passes; last: ${last.errorCode ?? last.reason}: ${last.message})`
    : '';
  return {
    ...base,
    live: false,
    reason: 'NoProgress',
    message: `no reconcile pass has made progress for ${seconds(since)}, beyond the liveness bound of ${bound}${cause}; see GET /status`,
  };
}

function seconds(ms: number): string {
  return `${Math.round(ms / 1000)} s`;
}
