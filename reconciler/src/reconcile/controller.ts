import { errorMessage } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import type { ApplyResult } from '../apply/apply-plan.js';
import type { Plan } from '../plan/plan-types.js';
import { PassTimeoutError } from './pass-timeout-error.js';
import { initialStatus, livenessOf, withCondition } from './controller-state.js';
import { verdictOfError, verdictOfResult, type NextStep, type PassVerdict } from './pass-verdict.js';
import type { Condition, ConditionReason, ControllerStatus, Liveness, PassRecord } from './status.js';

/**
 * What one pass does; it reports the revision it read as soon as it knows it. `signal` aborts when the
 * pass is abandoned at its deadline: a pass must then change nothing more (check it before applying).
 */
export type PassFunction = (
  onRevision: (revision: string) => void,
  signal: AbortSignal,
) => Promise<{ plan: Plan; result: ApplyResult }>;

export const DEFAULT_PASS_TIMEOUT_MS = 10 * 60_000;
/** How long after a `waiting` error (Docker busy, the node database still empty) that names no delay of its own. */
export const DEFAULT_WAITING_DELAY_MS = 10_000;

export interface ControllerOptions {
  readonly pass: PassFunction;
  readonly log?: Logger;
  readonly now?: () => Date;
  readonly random?: () => number;
  /** Retry delays after a failed pass: base·2^n with full jitter, at most max. */
  readonly backoff?: { readonly baseMs: number; readonly maxMs: number };
  /** The delay after a `waiting` error that names none (its `retryAfterMs`); default DEFAULT_WAITING_DELAY_MS. */
  readonly waitingDelayMs?: number;
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
 * One pass at a time; events during a pass cause exactly one more pass after it. The error that ends
 * a pass (or its failed changes, see verdictOfResult) decides what comes next by its disposition:
 * `generic` is retried with capped exponential backoff and jitter; `waiting` after its own delay (no
 * backoff); `stalled` (an invalid fleet, the tor image missing, a torrc tor refuses: a human must act)
 * not until the next event (a commit, a Docker event, a resync). Status is written when every pass ends.
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
    this.status = initialStatus(this.now().toISOString());
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
    return livenessOf({
      now: this.now(),
      lastProgressAt: this.lastProgressAt,
      boundMs: this.livenessBoundMs,
      due: !this.stopped && (this.running !== undefined || this.pending !== undefined || this.retryDue),
      passStartedAt: this.passStartedAt,
      passes: this.status.passes,
    });
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
    let verdict: PassVerdict;
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
      verdict = verdictOfResult(plan, result);
      this.plan = plan;
      this.status = {
        ...this.status,
        inventory: plan.changes
          .filter((c) => c.after)
          .map((c) => ({ name: c.proxy, pool: c.pool, specHash: c.after?.specHash ?? '' })),
      };
      if (verdict.record.outcome === 'converged' || verdict.record.reason === 'Shortfall') {
        this.status = { ...this.status, lastAppliedRevision: plan.revision };
      }
    } catch (error) {
      verdict = verdictOfError(error);
    }
    const finished = this.now();
    this.passStartedAt = undefined;
    if (verdict.record.outcome !== 'failed') this.lastProgressAt = finished;
    const full: PassRecord = {
      trigger,
      revision,
      startedAt: started.toISOString(),
      durationMs: finished.getTime() - started.getTime(),
      ...verdict.record,
      retryInMs: this.retryDelay(verdict.next),
    };
    this.finish(full, verdict);
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

  /** The delay before the retry `next` asks for; null when only an event starts the next pass. */
  private retryDelay(next: NextStep): number | null {
    switch (next.kind) {
      case 'event':
        this.failures = 0;
        return null;
      case 'after':
        // A dependency that is away for now: its own delay, and the backoff starts afresh after it.
        this.failures = 0;
        return Math.min(...next.asked.map((ms) => ms ?? this.options.waitingDelayMs ?? DEFAULT_WAITING_DELAY_MS));
      case 'backoff': {
        this.failures++;
        const backoff = this.options.backoff ?? { baseMs: 1000, maxMs: 300_000 };
        const ceiling = Math.min(backoff.maxMs, backoff.baseMs * 2 ** (this.failures - 1));
        return Math.round(ceiling / 2 + (ceiling / 2) * (this.options.random ?? Math.random)());
      }
    }
  }

  private finish(record: PassRecord, verdict: PassVerdict): void {
    const history = [record, ...this.status.passes].slice(0, this.options.historySize ?? 20);
    this.status = { ...this.status, passes: history };
    const ok = record.outcome === 'converged';
    this.setCondition('Ready', ok ? 'True' : 'False', record.reason, record.message);
    const stalled = verdict.stalled;
    this.setCondition('Stalled', stalled ? 'True' : 'False', stalled?.reason ?? record.reason, stalled?.message ?? '');
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
    else this.log.warn('pass finished', { ...fields, errorCode: record.errorCode, message: record.message });

    clearTimeout(this.retryTimer);
    this.retryDue = false;
    if (record.retryInMs === null) {
      if (stalled) this.log.info('stalled: waiting for the next event', { reason: stalled.reason });
      return;
    }
    this.log.info(verdict.next.kind === 'backoff' ? 'retrying after backoff' : 'retrying after a wait', {
      delayMs: record.retryInMs,
      failures: this.failures,
      disposition: record.disposition,
    });
    this.retryDue = true;
    this.retryTimer = setTimeout(() => {
      this.retryDue = false;
      this.enqueue('retry');
    }, record.retryInMs);
    this.retryTimer.unref();
  }

  private setCondition(
    type: Condition['type'],
    status: Condition['status'],
    reason: ConditionReason,
    message: string,
  ): void {
    this.status = withCondition(this.status, { type, status, reason, message }, this.now().toISOString());
  }
}
