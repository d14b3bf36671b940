import type { Plan, PlannedChange } from './plan-types.js';

const SYMBOL: Readonly<Record<PlannedChange['action'], string>> = { create: '+', replace: '~', delete: '-', noop: ' ' };

/**
 * The plan for humans, like a diff:
 *   + us-strict-2 exit $FP (203.0.113.7, US)
 *   ~ world-1 replace: exit_gone
 *   - old-0 removed_from_fleet
 */
export function formatPlan(plan: Plan): string {
  const lines: string[] = [];
  for (const change of plan.changes) {
    if (change.action === 'noop') continue;
    lines.push(`${SYMBOL[change.action]} ${describe(change)}`);
  }
  const count = (action: PlannedChange['action']): number => plan.changes.filter((c) => c.action === action).length;
  const unchanged = count('noop');
  if (lines.length === 0)
    lines.push(`No changes: ${unchanged} prox${unchanged === 1 ? 'y runs' : 'ies run'} as the fleet wants.`);
  else {
    lines.push(
      '',
      `Plan for ${plan.revision}: ${count('create')} to create, ${count('replace')} to replace, ${count('delete')} to delete, ${unchanged} unchanged.`,
    );
  }
  for (const shortfall of plan.shortfalls) lines.push(`! ${shortfall.message}`);
  return `${lines.join('\n')}\n`;
}

function describe(change: PlannedChange): string {
  const after = change.after;
  if (change.action === 'delete') return `${change.proxy} ${change.reason}`;
  const where = after ? ` on ${after.bind.includes(':') ? `[${after.bind}]` : after.bind}:${after.port}` : '';
  const prefix = change.action === 'replace' ? `${change.proxy} replace: ${change.reason},` : change.proxy;
  return `${prefix}${where} ${after ? exitsOf(after.exits, after.mode) : ''}`.trimEnd();
}

function exitsOf(exits: NonNullable<PlannedChange['after']>['exits'], mode: string): string {
  if (mode === 'rotating')
    return `rotating over ${exits.countries.length > 0 ? exits.countries.join(', ') : 'any non-US country'}`;
  if (exits.fingerprints.length === 1)
    return `exit $${exits.fingerprints[0] ?? ''} (${exits.addresses[0] ?? '?'}, ${exits.countries[0] ?? '?'})`;
  return `exits ${exits.network ?? '?'}: ${exits.fingerprints.length} relays (${exits.countries.join(', ')})`;
}
