import { TorfleetError } from '../errors.js';
import { quoteText } from './display-text.js';

/** One problem found in a fleet file, located by file, document path and line:column (1-based). */
export interface FleetIssue {
  readonly file: string;
  /** The path in the document, e.g. `pools[1].basePort`; empty for the document itself. */
  readonly path: string;
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

/** `fleet/fleet.yaml:12:5: pools[1].basePort: 70000 is above the maximum 65535` */
export function formatIssue(issue: FleetIssue): string {
  const where = `${issue.file}:${issue.line}:${issue.column}`;
  return issue.path === '' ? `${where}: ${issue.message}` : `${where}: ${issue.path}: ${issue.message}`;
}

/** A fleet file that cannot be used. It stalls the reconciler until a human commits a fix. */
export class FleetValidationError extends TorfleetError {
  readonly issues: readonly FleetIssue[];

  constructor(issues: readonly FleetIssue[]) {
    const first = issues[0];
    const summary = first ? formatIssue(first) : 'invalid fleet';
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
    super('FLEET_INVALID', 'stalled', `invalid fleet: ${summary}${more}`);
    this.name = 'FleetValidationError';
    this.issues = issues;
  }
}

/**
 * Renders a document path: ['pools', 1, 'basePort'] → `pools[1].basePort`. A key that is not a plain
 * word is quoted and escaped (`pools[0]["bind\nExitNodes *"]`): keys are user text like any value.
 */
export function formatPath(segments: readonly (string | number)[]): string {
  let out = '';
  for (const segment of segments) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (!/^[A-Za-z_][A-Za-z0-9_-]{0,63}$/.test(segment)) out += `[${quoteText(segment)}]`;
    else out += out === '' ? segment : `.${segment}`;
  }
  return out;
}
