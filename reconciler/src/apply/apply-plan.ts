import { forEachConcurrently } from '../concurrency/for-each-concurrently.js';
import { summarizeError, type ErrorSummary } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import type { ObservedProxy, Plan, PlannedChange, ProxySpec } from '../plan/plan-types.js';
import type { ProxyRuntime } from '../runtime/proxy-runtime.js';
import { applyPacked, isPackedChange, removeSharedTors, type PackedApply } from './apply-packed.js';

export interface ApplyDependencies {
  readonly runtime: ProxyRuntime;
  /** Renders and checks a proxy's torrc (template + tor --verify-config); throws when it is not acceptable. */
  readonly torrcFor: (spec: ProxySpec) => Promise<string>;
  readonly log?: Logger;
  /** How many proxies change at once. */
  readonly concurrency?: number;
  /**
   * Aborts when the pass is abandoned at its deadline: from then on no runtime object is touched (no change
   * starts, no proxy is removed or created); what is left fails with the abort's reason.
   */
  readonly signal?: AbortSignal;
  /** Packed pools' shared tors and records; absent: the runtime cannot run packed pools (their changes fail). */
  readonly packed?: PackedApply;
}

export interface ChangeFailure {
  readonly change: PlannedChange;
  /** The typed error, as a value: its code and disposition decide the controller's next step. */
  readonly error: ErrorSummary;
}

export interface ApplyResult {
  readonly done: readonly PlannedChange[];
  readonly failures: readonly ChangeFailure[];
  /** What runs after the apply for every proxy it created or replaced. */
  readonly created: readonly ObservedProxy[];
}

/**
 * Carries out exactly the plan: deletions first (they free ports and exits), then shared tors and packed
 * proxies (apply-packed.ts), then replacements and creations. Every failure is collected, never stopping the others; the next pass retries them.
 */
export async function applyPlan(plan: Plan, deps: ApplyDependencies): Promise<ApplyResult> {
  const log = deps.log ?? silentLogger;
  const done: PlannedChange[] = [];
  const failures: ChangeFailure[] = [];
  const created: ObservedProxy[] = [];
  const run = async (change: PlannedChange): Promise<void> => {
    try {
      const result = await applyChange(change, deps, plan.revision);
      if (result) created.push(result);
      done.push(change);
      log.info('change applied', {
        proxy: change.proxy,
        action: change.action,
        reason: change.reason,
        revision: plan.revision,
      });
    } catch (error) {
      const summary = summarizeError(error);
      failures.push({ change, error: summary });
      log.error('change failed', {
        proxy: change.proxy,
        action: change.action,
        revision: plan.revision,
        code: summary.code,
        disposition: summary.disposition,
        error: summary.message,
      });
    }
  };
  const limit = deps.concurrency ?? 4;
  await forEachConcurrently(
    plan.changes.filter((c) => c.action === 'delete'),
    limit,
    run,
  );
  // Shared tors (packed pools): the deleted ones free their SocksPorts, then the wanted ones start and get
  // their proxies' records; a proxy leaving a packed pool is created below, once its shared tor is gone.
  await removeSharedTors(plan, deps.packed, log);
  const packed = await applyPacked(plan, deps.packed, deps.runtime, deps.signal, log);
  done.push(...packed.done);
  failures.push(...packed.failures);
  created.push(...packed.created);
  await forEachConcurrently(
    plan.changes.filter((c) => (c.action === 'replace' || c.action === 'create') && !isPackedChange(c)),
    limit,
    run,
  );
  return { done, failures, created };
}

async function applyChange(
  change: PlannedChange,
  deps: ApplyDependencies,
  revision: string,
): Promise<ObservedProxy | undefined> {
  const { runtime } = deps;
  const stillWanted = (): void => deps.signal?.throwIfAborted();
  switch (change.action) {
    case 'noop':
      return undefined;
    case 'delete':
      stillWanted();
      if (change.before) await runtime.remove(change.before, { forget: change.reason !== 'duplicate' });
      return undefined;
    case 'replace':
    case 'create': {
      if (!change.after) return undefined;
      stillWanted();
      // Check everything first: a torrc tor would refuse, or a missing image, never takes a running proxy down.
      const torrc = await deps.torrcFor(change.after);
      await runtime.preflight(change.after);
      stillWanted();
      if (change.before && runtime.replace) return runtime.replace(change.before, change.after, torrc, revision);
      if (change.before) await runtime.remove(change.before, { forget: false });
      // Once the old one is gone its successor is created even if the pass was abandoned meanwhile.
      return runtime.create(change.after, torrc, revision);
    }
  }
}
