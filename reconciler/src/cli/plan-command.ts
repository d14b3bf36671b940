import { parseArgs } from 'node:util';
import { formatIssue } from '../fleet/fleet-issue.js';
import { formatPlan } from '../plan/format-plan.js';
import { hasChanges } from '../plan/plan-types.js';
import { planPass, reconcilePass } from '../reconcile/reconcile-pass.js';
import type { CliContext, ExitCode } from './cli-context.js';
import { passDependencies } from './wiring.js';

/** `torfleet plan [--json]`: prints what apply would change; touches nothing. 0 no changes, 2 changes, 1 error. */
export async function planCommand(context: CliContext): Promise<ExitCode> {
  const { values } = parseArgs({
    args: [...context.args],
    options: { json: { type: 'boolean', default: false } },
    strict: true,
  });
  const deps = passDependencies(context);
  try {
    const { plan, warnings } = await planPass(deps);
    for (const warning of warnings)
      context.err(`${formatIssue({ ...warning, message: `warning: ${warning.message}` })}\n`);
    context.out(values.json ? `${JSON.stringify(plan, null, 2)}\n` : formatPlan(plan));
    return hasChanges(plan) ? 2 : 0;
  } finally {
    deps.store.close();
  }
}

/** `torfleet apply`: one reconcile pass. 0 converged; 1 on any error, failed change or shortfall. */
export async function applyCommand(context: CliContext): Promise<ExitCode> {
  parseArgs({ args: [...context.args], options: {}, strict: true });
  const deps = passDependencies(context);
  try {
    const { plan, result } = await reconcilePass(deps);
    context.out(formatPlan(plan));
    // Nothing attaches a packed proxy's streams but a packing controller, and those run inside `torfleet run`.
    if (plan.sharedTors.some((change) => change.after)) {
      context.err(
        'torfleet: note: packed proxies carry traffic only while "torfleet run" runs their shared tors\' controllers; until then they refuse every stream (fail closed)\n',
      );
    }
    for (const failure of result.failures)
      context.err(`torfleet: ${failure.change.proxy}: ${failure.change.action} failed: ${failure.error.message}\n`);
    if (result.failures.length > 0 || plan.shortfalls.length > 0) {
      context.out(
        `Applied ${result.done.length} change(s); ${result.failures.length} failed${plan.shortfalls.length > 0 ? '; the fleet is short of exits' : ''}.\n`,
      );
      return 1;
    }
    context.out(hasChanges(plan) ? `Applied ${result.done.length} change(s): converged on ${plan.revision}.\n` : '');
    return 0;
  } finally {
    deps.store.close();
  }
}
