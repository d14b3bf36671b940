import { errorMessage, TorfleetError } from '../errors.js';
import { FleetValidationError, formatIssue } from '../fleet/fleet-issue.js';
import { silentLogger, type Logger } from '../logger.js';
import type { ApplyResult } from '../apply/apply-plan.js';
import type { Plan } from '../plan/plan-types.js';
import type { Condition, ConditionReason, ControllerStatus, PassOutcome, PassRecord } from './status.js';

/** What one pass does; it reports the revision it read as soon as it knows it. */
export type PassFunction = (onRevision: (revision: string) => void) => Promise<{ plan: Plan; result: ApplyResult }>;

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
}

/**
 * Level-triggered reconciling: every event only says "look again"; a pass re-reads everything.
 * One pass at a time; events during a pass cause exactly one more pass after it. A failed pass is
 * retried with capped exponential backoff and jitter; a stalled one (an invalid fleet: a human must
 * commit a fix) is not retried until the next event. Status is written when every pass ends.
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

  constructor(private readonly options: ControllerOptions) {
    this.log = options.log ?? silentLogger;
    this.now = options.now ?? (() => new Date());
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
      await this.runPass(trigger);
    }
    this.running = undefined;
  }

  private async runPass(trigger: string): Promise<void> {
    const started = this.now();
    let revision: string | null = null;
    this.setCondition('Reconciling', 'True', 'Progressing', `pass triggered by ${trigger}`);
    let record: Omit<PassRecord, 'trigger' | 'revision' | 'startedAt' | 'durationMs'>;
    try {
      const { plan, result } = await this.options.pass((r) => {
        revision = r;
        this.status = { ...this.status, lastAttemptedRevision: r };
      });
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
      };
    }
    if (plan.shortfalls.length > 0) {
      return {
        outcome: 'partial',
        reason: 'Shortfall',
        message: plan.shortfalls.map((s) => s.message).join('; '),
        changes,
        shortfalls: plan.shortfalls,
      };
    }
    const message =
      changes.length === 0
        ? `${plan.revision}: nothing to change`
        : `${plan.revision}: applied ${changes.length} change(s)`;
    return { outcome: 'converged', reason: 'Succeeded', message, changes, shortfalls: [] };
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
      };
      reason = byCode[error.code] ?? 'ReconcileError';
    }
    const stalled = error instanceof TorfleetError && error.disposition === 'stalled';
    const outcome: PassOutcome = stalled ? 'stalled' : 'failed';
    return { outcome, reason, message, changes: [], shortfalls: [] };
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
      this.retryTimer = setTimeout(() => {
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
