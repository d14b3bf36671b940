import { errorMessage, TorfleetError } from '../errors.js';
import { FleetValidationError, formatIssue } from '../fleet/fleet-issue.js';
import { silentLogger, type Logger } from '../logger.js';
import type { ApplyResult } from '../apply/apply-plan.js';
import type { Plan } from '../plan/plan-types.js';
import { PassTimeoutError } from './pass-timeout-error.js';
import type { Condition, ConditionReason, ControllerStatus, Liveness, PassOutcome, PassRecord } from './status.js';

/**
 * What one pass does; it reports the revision it read as soon as it knows it. `signal` aborts when the
 * pass is abandoned at its deadline: a pass must then change nothing more (check it before applying).
 */
export type PassFunction = (
  onRevision: (revision: string) => void,
  signal: AbortSignal,
) => Promise<{ plan: Plan; result: ApplyResult }>;

export const DEFAULT_PASS_TIMEOUT_MS = 10 * 60_000;

export interface ControllerOptions {
  readonly pass: PassFunction;
  readonly log?: Logger;
  readonly now?: () => Date;
  readonly random?: () => number;
  /** Retry delays after a failed pass: base·2^n with full jitter, at most max. */
  readonly backoff?: { readonly baseMs: number; readonly maxMs: number };
  readonly historySize?: number;
  /** Called when a pass ends (metrics). */
  readonly onPass?: (record: PassRecord, plan: Plan | null) => void;
  /** A pass still running after this is abandoned (failed, `PassTimeout`) and the controller goes on. */
  readonly passTimeoutMs?: number;
  /** Not live once passes are due but none has made progress for this long; default 2 × passTimeoutMs. */
  readonly livenessBoundMs?: number;
}

/**
 * Level-triggered reconciling: every event only says "look again"; a pass re-reads everything.
 * One pass at a time; events during a pass cause exactly one more pass after it. A failed pass is
 * retried with capped exponential backoff and jitter; a stalled one (an invalid fleet: a human must
 * commit a fix) is not retried until the next event. Status is written when every pass ends.
 * Each pass has a deadline: past it the pass is abandoned (its signal aborts) and counts as failed.
 * Liveness: progress is a pass that ends in anything but `failed`; `liveness()` is false when passes are
 * due (one running, queued, or a retry waiting) and the last progress is older than the bound.
 */
export class Controller {
  private running: Promise<void> | undefined;
  private pending: string | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private stopped = false;
  private readonly log: Logger;
  private readonly now: () => Date;
  private status: ControllerStatus;
  private plan: Plan | null = null;
  private readonly passTimeoutMs: number;
  private readonly livenessBoundMs: number;
  private lastProgressAt: Date;
  private passStartedAt: Date | undefined;
  private retryDue = false;

  constructor(private readonly options: ControllerOptions) {
    this.log = options.log ?? silentLogger;
    this.now = options.now ?? (() => new Date());
    this.passTimeoutMs = options.passTimeoutMs ?? DEFAULT_PASS_TIMEOUT_MS;
    this.livenessBoundMs = options.livenessBoundMs ?? 2 * this.passTimeoutMs;
    this.lastProgressAt = this.now();
    const at = this.now().toISOString();
    this.status = {
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

  getStatus(): ControllerStatus {
    return this.status;
  }

  /** The plan of the last pass that got as far as planning: what the fleet wants, proxy by proxy. */
  lastPlan(): Plan | null {
    return this.plan;
  }

  /** Whether the controller still makes progress; see the class comment for the rule. */
  liveness(): Liveness {
    const now = this.now();
    const base = { lastProgressAt: this.lastProgressAt.toISOString(), boundMs: this.livenessBoundMs };
    const due = !this.stopped && (this.running !== undefined || this.pending !== undefined || this.retryDue);
    if (!due) return { ...base, live: true, reason: 'Idle', message: 'no pass is due' };
    const since = now.getTime() - this.lastProgressAt.getTime();
    if (since <= this.livenessBoundMs) {
      return { ...base, live: true, reason: 'Progressing', message: `last progress ${seconds(since)} ago` };
    }
    const bound = seconds(this.livenessBoundMs);
    const runningFor = this.passStartedAt ? now.getTime() - this.passStartedAt.getTime() : 0;
    if (this.passStartedAt && runningFor > this.livenessBoundMs) {
      return {
        ...base,
        live: false,
        reason: 'Wedged',
        message: `the controller is wedged: a pass has run for ${seconds(runningFor)}, beyond the liveness bound of ${bound}; restart torfleet`,
      };
    }
    const last = this.status.passes[0];
    const cause = last
      ? ` (${this.status.passes.filter((p) => p.outcome === 'failed').length} failed passes; last: ${last.errorCode ?? last.reason}: ${last.message})`
      : '';
    return {
      ...base,
      live: false,
      reason: 'NoProgress',
      message: `no reconcile pass has made progress for ${seconds(since)}, beyond the liveness bound of ${bound}${cause}; see GET /status`,
    };
  }

  /** "Look again", for any reason (a commit, a node refresh, a container event, a resync). */
  enqueue(trigger: string): void {
    if (this.stopped) return;
    this.pending = this.pending ?? trigger;
    if (!this.running) this.running = this.drain();
  }

  /** Resolves once the current pass (if any) has finished; no pass starts after it. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.retryDue = false;
    await this.running;
  }

  /** Resolves when no pass is running or queued (tests, `apply`). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    while (this.pending !== undefined && !this.stopped) {
      const trigger = this.pending;
      this.pending = undefined;
      clearTimeout(this.retryTimer);
      this.retryDue = false;
      await this.runPass(trigger);
    }
    this.running = undefined;
  }

  private async runPass(trigger: string): Promise<void> {
    const started = this.now();
    this.passStartedAt = started;
    let revision: string | null = null;
    this.setCondition('Reconciling', 'True', 'Progressing', `pass triggered by ${trigger}`);
    let record: Omit<PassRecord, 'trigger' | 'revision' | 'startedAt' | 'durationMs'>;
    const abandon = new AbortController();
    try {
      const { plan, result } = await this.withDeadline(
        trigger,
        abandon,
        this.options.pass((r) => {
          if (abandon.signal.aborted) return;
          revision = r;
          this.status = { ...this.status, lastAttemptedRevision: r };
        }, abandon.signal),
      );
      record = this.recordOf(plan, result);
      this.plan = plan;
      this.status = {
        ...this.status,
        inventory: plan.changes
          .filter((c) => c.after)
          .map((c) => ({ name: c.proxy, pool: c.pool, specHash: c.after?.specHash ?? '' })),
      };
      if (record.outcome === 'converged' || record.reason === 'Shortfall') {
        this.status = { ...this.status, lastAppliedRevision: plan.revision };
      }
    } catch (error) {
      record = this.failureOf(error);
    }
    const finished = this.now();
    this.passStartedAt = undefined;
    if (record.outcome !== 'failed') this.lastProgressAt = finished;
    const full: PassRecord = {
      trigger,
      revision,
      startedAt: started.toISOString(),
      durationMs: finished.getTime() - started.getTime(),
      ...record,
    };
    this.finish(full);
    this.options.onPass?.(full, this.plan);
  }

  /**
   * The pass's result, or a PassTimeoutError once the deadline passes; the abandoned pass is told through
   * its signal, and whatever it does after is only logged.
   */
  private async withDeadline<T>(trigger: string, abandon: AbortController, pass: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        const timeout = new PassTimeoutError(trigger, this.passTimeoutMs);
        abandon.abort(timeout);
        reject(timeout);
      }, this.passTimeoutMs);
      // The deadline alone keeps no process alive (what the pass waits on does, if anything).
      timer.unref();
    });
    try {
      return await Promise.race([pass, deadline]);
    } finally {
      clearTimeout(timer);
      if (abandon.signal.aborted) {
        pass.then(
          () => {
            this.log.warn('an abandoned pass finished after its deadline', { trigger });
          },
          (late: unknown) => {
            this.log.warn('an abandoned pass failed after its deadline', { trigger, error: errorMessage(late) });
          },
        );
      }
    }
  }

  private recordOf(
    plan: Plan,
    result: ApplyResult,
  ): Omit<PassRecord, 'trigger' | 'revision' | 'startedAt' | 'durationMs'> {
    const failed = new Map(result.failures.map((f) => [f.change, f.error]));
    const changes = plan.changes
      .filter((c) => c.action !== 'noop')
      .map((c) => {
        const error = failed.get(c);
        return { proxy: c.proxy, action: c.action, reason: c.reason, ...(error === undefined ? {} : { error }) };
      });
    if (result.failures.length > 0) {
      const first = result.failures[0];
      return {
        outcome: 'partial',
        reason: 'ApplyFailed',
        message: `${result.failures.length} of ${changes.length} changes failed; first: ${first?.change.proxy ?? ''}: ${first?.error ?? ''}`,
        changes,
        shortfalls: plan.shortfalls,
        errorCode: null,
      };
    }
    if (plan.shortfalls.length > 0) {
      return {
        outcome: 'partial',
        reason: 'Shortfall',
        message: plan.shortfalls.map((s) => s.message).join('; '),
        changes,
        shortfalls: plan.shortfalls,
        errorCode: null,
      };
    }
    const message =
      changes.length === 0
        ? `${plan.revision}: nothing to change`
        : `${plan.revision}: applied ${changes.length} change(s)`;
    return { outcome: 'converged', reason: 'Succeeded', message, changes, shortfalls: [], errorCode: null };
  }

  private failureOf(error: unknown): Omit<PassRecord, 'trigger' | 'revision' | 'startedAt' | 'durationMs'> {
    let reason: ConditionReason = 'ReconcileError';
    let message = errorMessage(error);
    if (error instanceof FleetValidationError) {
      reason = 'InvalidFleet';
      message = error.issues.map(formatIssue).join('\n');
    } else if (error instanceof TorfleetError) {
      const byCode: Partial<Record<TorfleetError['code'], ConditionReason>> = {
        FLEET_UNREADABLE: 'SourceUnavailable',
        NODE_DB: 'NodeDataUnavailable',
        NODE_SOURCE_UNAVAILABLE: 'NodeDataUnavailable',
        RUNTIME: 'RuntimeUnavailable',
        TORRC_INVALID: 'ApplyFailed',
        PASS_TIMEOUT: 'PassTimeout',
      };
      reason = byCode[error.code] ?? 'ReconcileError';
    }
    const stalled = error instanceof TorfleetError && error.disposition === 'stalled';
    const outcome: PassOutcome = stalled ? 'stalled' : 'failed';
    const errorCode = errorCodeOf(error);
    // A failed pass names its code in the Ready condition, so /status alone says what broke.
    if (outcome === 'failed') message = `${errorCode}: ${message}`;
    return { outcome, reason, message, changes: [], shortfalls: [], errorCode };
  }

  private finish(record: PassRecord): void {
    const history = [record, ...this.status.passes].slice(0, this.options.historySize ?? 20);
    this.status = { ...this.status, passes: history };
    const ok = record.outcome === 'converged';
    this.setCondition('Ready', ok ? 'True' : 'False', record.reason, record.message);
    this.setCondition(
      'Stalled',
      record.outcome === 'stalled' ? 'True' : 'False',
      record.reason,
      record.outcome === 'stalled' ? record.message : '',
    );
    this.setCondition('Reconciling', 'False', record.reason, record.message);
    const fields = {
      trigger: record.trigger,
      revision: record.revision,
      outcome: record.outcome,
      reason: record.reason,
      durationMs: record.durationMs,
      changes: record.changes.length,
    };
    if (record.outcome === 'converged') this.log.info('pass finished', fields);
    else this.log.warn('pass finished', { ...fields, message: record.message });

    if (record.outcome === 'failed' || (record.outcome === 'partial' && record.reason === 'ApplyFailed')) {
      this.failures++;
      const backoff = this.options.backoff ?? { baseMs: 1000, maxMs: 300_000 };
      const ceiling = Math.min(backoff.maxMs, backoff.baseMs * 2 ** (this.failures - 1));
      const delay = Math.round(ceiling / 2 + (ceiling / 2) * (this.options.random ?? Math.random)());
      this.log.info('retrying after backoff', { delayMs: delay, failures: this.failures });
      clearTimeout(this.retryTimer);
      this.retryDue = true;
      this.retryTimer = setTimeout(() => {
        this.retryDue = false;
        this.enqueue('retry');
      }, delay);
      this.retryTimer.unref();
    } else {
      this.failures = 0;
    }
  }

  private setCondition(
    type: Condition['type'],
    status: Condition['status'],
    reason: ConditionReason,
    message: string,
  ): void {
    const conditions = this.status.conditions.map((c) => {
      if (c.type !== type) return c;
      const transition = c.status !== status ? this.now().toISOString() : c.lastTransitionTime;
      return { type, status, reason, message, lastTransitionTime: transition };
    });
    this.status = { ...this.status, conditions };
  }
}

/** The stable code of a pass's error: a TorfleetError's, else a cause's own (`SQLITE_CORRUPT`), else INTERNAL. */
function errorCodeOf(error: unknown): string {
  for (let at: unknown = error, depth = 0; at instanceof Error && depth < 5; at = at.cause, depth++) {
    if (at instanceof TorfleetError) return at.code;
    const code = (at as { code?: unknown }).code;
    if (typeof code === 'string' && /^[A-Z][A-Z0-9_]*$/.test(code)) return code;
  }
  return 'INTERNAL';
}

function seconds(ms: number): string {
  return `${Math.round(ms / 1000)} s`;
}
