import type { ApplyResult, ChangeFailure } from '../apply/apply-plan.js';
import { summarizeError, type ErrorDisposition } from '../errors.js';
import { FleetValidationError, formatIssue } from '../fleet/fleet-issue.js';
import type { Plan } from '../plan/plan-types.js';
import type { ConditionReason, PassChange, PassRecord } from './status.js';

/** What the controller does after a pass: nothing until an event, back off, or try again after a delay. */
export type NextStep =
  | { readonly kind: 'event' }
  | { readonly kind: 'backoff' }
  /** The shortest of the delays the waiting errors asked for (undefined: the controller's default). */
  | { readonly kind: 'after'; readonly asked: readonly (number | undefined)[] };

/** A finished pass judged: its record (less what the controller stamps) and what comes next. */
export interface PassVerdict {
  readonly record: Omit<PassRecord, 'trigger' | 'revision' | 'startedAt' | 'durationMs' | 'retryInMs'>;
  readonly next: NextStep;
  /** Set when a human must act (the Stalled condition): its reason and message. */
  readonly stalled: { readonly reason: ConditionReason; readonly message: string } | null;
}

/** The condition reason an error's code names; `fallback` for codes without one of their own. */
export function reasonOf(code: string, fallback: ConditionReason): ConditionReason {
  const byCode: Partial<Record<string, ConditionReason>> = {
    FLEET_UNREADABLE: 'SourceUnavailable',
    NODE_DB: 'NodeDataUnavailable',
    NODE_SOURCE_UNAVAILABLE: 'NodeDataUnavailable',
    IMAGE_MISSING: 'ImageMissing',
    TORRC_INVALID: 'TorrcInvalid',
    TOR_MISSING: 'TorMissing',
    RUNTIME_CONFLICT: 'RuntimeConflict',
    RUNTIME: 'RuntimeUnavailable',
    PASS_TIMEOUT: 'PassTimeout',
  };
  return byCode[code] ?? fallback;
}

/**
 * A pass that ran to its end. Its failed changes decide the next step by the most retryable one: any
 * `generic` failure backs off (retrying may fix it; the stalled ones are tried again too, cheaply: each
 * is checked before anything is removed); else any `waiting` one tries again after the shortest delay
 * asked; else (all `stalled`) the controller waits for the next event. Any stalled failure sets Stalled,
 * naming its proxies, whatever the others do: those need a human either way.
 */
export function verdictOfResult(plan: Plan, result: ApplyResult): PassVerdict {
  const failed = new Map(result.failures.map((f) => [f.change, f.error]));
  const changes: PassChange[] = plan.changes
    // A packed proxy whose shared tor failed fails too, unchanged or not: it is not served.
    .filter((c) => c.action !== 'noop' || failed.has(c))
    .map((c) => {
      const error = failed.get(c);
      const base = { proxy: c.proxy, action: c.action, reason: c.reason };
      return error ? { ...base, error: error.message, code: error.code, disposition: error.disposition } : base;
    });
  const shortfalls = plan.shortfalls;
  if (result.failures.length > 0) return verdictOfFailures(result.failures, changes, shortfalls);
  if (shortfalls.length > 0) {
    const message = shortfalls.map((s) => s.message).join('; ');
    const record = { outcome: 'partial', reason: 'Shortfall', message, changes, shortfalls } as const;
    return { record: { ...record, errorCode: null, disposition: null }, next: { kind: 'event' }, stalled: null };
  }
  const message =
    changes.length === 0
      ? `${plan.revision}: nothing to change`
      : `${plan.revision}: applied ${changes.length} change(s)`;
  return {
    record: {
      outcome: 'converged',
      reason: 'Succeeded',
      message,
      changes,
      shortfalls,
      errorCode: null,
      disposition: null,
    },
    next: { kind: 'event' },
    stalled: null,
  };
}

function verdictOfFailures(
  failures: readonly ChangeFailure[],
  changes: readonly PassChange[],
  shortfalls: Plan['shortfalls'],
): PassVerdict {
  const of = (d: ErrorDisposition): ChangeFailure[] => failures.filter((f) => f.error.disposition === d);
  const [generic, waiting, stalled] = [of('generic'), of('waiting'), of('stalled')];
  const deciding = (generic[0] ?? waiting[0] ?? stalled[0]) as ChangeFailure;
  const counts = (['stalled', 'waiting', 'generic'] as const)
    .map((d) => [d, of(d).length] as const)
    .filter(([, n]) => n > 0)
    .map(([d, n]) => `${String(n)} ${d}`)
    .join(', ');
  const message = `${String(failures.length)} of ${String(changes.length)} changes failed (${counts}); ${describe(deciding)}`;
  const next: NextStep =
    generic.length > 0
      ? { kind: 'backoff' }
      : waiting.length > 0
        ? { kind: 'after', asked: waiting.map((f) => f.error.retryAfterMs) }
        : { kind: 'event' };
  const reason = reasonOf(deciding.error.code, 'ApplyFailed');
  const record = {
    outcome: next.kind === 'event' ? 'stalled' : 'partial',
    reason,
    message,
    changes,
    shortfalls,
    errorCode: deciding.error.code,
    disposition: deciding.error.disposition,
  } as const;
  const first = stalled[0];
  return {
    record,
    next,
    stalled: first
      ? {
          reason: reasonOf(first.error.code, 'ApplyFailed'),
          message: `${String(stalled.length)} change(s) need a human: ${listed(stalled)}`,
        }
      : null,
  };
}

/** A pass that threw before or while applying: its error alone decides. */
export function verdictOfError(error: unknown): PassVerdict {
  const summary = summarizeError(error);
  const invalidFleet = error instanceof FleetValidationError;
  const reason: ConditionReason = invalidFleet ? 'InvalidFleet' : reasonOf(summary.code, 'ReconcileError');
  const stalled = summary.disposition === 'stalled';
  // A failed pass names its code in the Ready condition, so /status alone says what broke.
  const message = invalidFleet
    ? error.issues.map(formatIssue).join('\n')
    : stalled
      ? summary.message
      : `${summary.code}: ${summary.message}`;
  const next: NextStep = stalled
    ? { kind: 'event' }
    : summary.disposition === 'waiting'
      ? { kind: 'after', asked: [summary.retryAfterMs] }
      : { kind: 'backoff' };
  return {
    record: {
      outcome: stalled ? 'stalled' : 'failed',
      reason,
      message,
      changes: [],
      shortfalls: [],
      errorCode: summary.code,
      disposition: summary.disposition,
    },
    next,
    stalled: stalled ? { reason, message } : null,
  };
}

/** The stalled changes shown in the Stalled condition at most; each pass's changes list them all. */
const MAX_LISTED = 3;

function listed(failures: readonly ChangeFailure[]): string {
  const shown = failures.slice(0, MAX_LISTED).map(describe).join('; ');
  return failures.length > MAX_LISTED
    ? `${shown}; and ${String(failures.length - MAX_LISTED)} more (GET /status)`
    : shown;
}

function describe(failure: ChangeFailure): string {
  return `${failure.change.proxy}: ${failure.change.action}: ${failure.error.code}: ${failure.error.message}`;
}
