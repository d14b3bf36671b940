import type { Plan, PlannedChange } from './plan-types.js';
import type { SharedTorChange } from './shared-tor-types.js';

const SYMBOL: Readonly<Record<PlannedChange['action'], string>> = { create: '+', replace: '~', delete: '-', noop: ' ' };

/**
 * The plan for humans, like a diff; shared tors (packed pools) first, as they come up before their proxies:
 *   + shared tor us-tor0 (pool us): 3 proxies
 *   + us-strict-2 exit $FP (203.0.113.7, US)
 *   + us-0 on 127.0.0.1:20000 exit $FP (203.0.113.8, US) via us-tor0
 *   ~ world-1 replace: exit_gone
 *   - old-0 removed_from_fleet
 */
export function formatPlan(plan: Plan): string {
  const lines: string[] = [];
  for (const change of plan.sharedTors) {
    if (change.action !== 'noop') lines.push(`${SYMBOL[change.action]} ${describeSharedTor(change)}`);
  }
  for (const change of plan.changes) {
    if (change.action === 'noop') continue;
    lines.push(`${SYMBOL[change.action]} ${describe(change)}`);
  }
  const count = (action: PlannedChange['action']): number => plan.changes.filter((c) => c.action === action).length;
  const unchanged = count('noop');
  const tors = plan.sharedTors.length;
  const torsUnchanged = plan.sharedTors.filter((c) => c.action === 'noop').length;
  if (lines.length === 0) {
    const shared = tors > 0 ? ` on ${torsUnchanged} shared tor${torsUnchanged === 1 ? '' : 's'}` : '';
    lines.push(`No changes: ${unchanged} prox${unchanged === 1 ? 'y runs' : 'ies run'}${shared} as the fleet wants.`);
  } else {
    lines.push(
      '',
      `Plan for ${plan.revision}: ${count('create')} to create, ${count('replace')} to replace, ${count('delete')} to delete, ${unchanged} unchanged.`,
    );
    if (tors > 0) {
      const torCount = (action: SharedTorChange['action']): number =>
        plan.sharedTors.filter((c) => c.action === action).length;
      lines.push(
        `Shared tors: ${torCount('create')} to create, ${torCount('replace')} to replace, ${torCount('delete')} to delete, ${torsUnchanged} unchanged.`,
      );
    }
  }
  for (const shortfall of plan.shortfalls) lines.push(`! ${shortfall.message}`);
  return `${lines.join('\n')}\n`;
}

function describe(change: PlannedChange): string {
  const after = change.after;
  if (change.action === 'delete') return `${change.proxy} ${change.reason}`;
  const where = after ? ` on ${after.bind.includes(':') ? `[${after.bind}]` : after.bind}:${after.port}` : '';
  const prefix = change.action === 'replace' ? `${change.proxy} replace: ${change.reason},` : change.proxy;
  const via = after?.packing ? ` via ${after.packing.tor}` : '';
  return `${prefix}${where} ${after ? exitsOf(after.exits, after.mode) : ''}`.trimEnd() + via;
}

function describeSharedTor(change: SharedTorChange): string {
  const name = `shared tor ${change.tor}`;
  if (change.action === 'delete') return `${name} ${change.reason}`;
  const served = change.after?.proxies.length ?? 0;
  const proxies = `${served} prox${served === 1 ? 'y' : 'ies'}`;
  if (change.action === 'replace') return `${name} replace: ${change.reason}, ${proxies}`;
  return `${name} (pool ${change.pool}): ${proxies}`;
}

function exitsOf(exits: NonNullable<PlannedChange['after']>['exits'], mode: string): string {
  if (mode === 'rotating')
    return `rotating over ${exits.countries.length > 0 ? exits.countries.join(', ') : 'any non-US country'}`;
  if (exits.fingerprints.length === 1)
    return `exit $${exits.fingerprints[0] ?? ''} (${exits.addresses[0] ?? '?'}, ${exits.countries[0] ?? '?'})`;
  return `exits ${exits.network ?? '?'}: ${exits.fingerprints.length} relays (${exits.countries.join(', ')})`;
}
