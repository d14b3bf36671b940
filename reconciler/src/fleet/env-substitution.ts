import type { FleetIssue } from './fleet-issue.js';
import type { LocatedDocument, PathSegment } from './yaml-document.js';

/** `${NAME}`: upper-case letters, digits and underscores, not starting with a digit. */
const REFERENCE = /\$\{([^}]*)\}/g;
const VARIABLE_NAME = /^[A-Z_][A-Z0-9_]*$/;

export interface Substitution {
  readonly path: readonly PathSegment[];
  /** True when the whole string was one `${NAME}` reference. */
  readonly wholeValue: boolean;
}

export interface SubstitutionResult {
  readonly value: unknown;
  readonly substitutions: readonly Substitution[];
  readonly issues: readonly FleetIssue[];
}

/**
 * Replaces `${NAME}` in every string value from `env`. A missing variable is an issue.
 * Keys are never substituted. Messages name the variable, never a value.
 */
export function substituteEnv(
  document: LocatedDocument,
  env: Readonly<Record<string, string | undefined>>,
): SubstitutionResult {
  const substitutions: Substitution[] = [];
  const issues: FleetIssue[] = [];

  const walk = (value: unknown, path: PathSegment[]): unknown => {
    if (typeof value === 'string') return substituteString(value, path);
    if (Array.isArray(value)) return value.map((item: unknown, i) => walk(item, [...path, i]));
    if (value !== null && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) out[key] = walk(item, [...path, key]);
      return out;
    }
    return value;
  };

  const substituteString = (text: string, path: PathSegment[]): string => {
    if (!text.includes('${')) return text;
    const issuesBefore = issues.length;
    const replaced = text.replace(REFERENCE, (_match, name: string) => {
      if (!VARIABLE_NAME.test(name)) {
        issues.push(
          document.issueAt(path, `"\${${name}}" is not a valid variable reference; use \${NAME} with A-Z, 0-9 and _`),
        );
        return '';
      }
      const found = env[name];
      if (found === undefined) {
        issues.push(
          document.issueAt(
            path,
            `environment variable ${name} is not set; set it in the reconciler's environment or remove the reference`,
          ),
        );
        return '';
      }
      return found;
    });
    if (issues.length > issuesBefore) return text;
    const whole = /^\$\{[A-Z_][A-Z0-9_]*\}$/.test(text);
    substitutions.push({ path, wholeValue: whole });
    return replaced;
  };

  const value = walk(document.value, []);
  return { value, substitutions, issues };
}

export function samePath(a: readonly PathSegment[], b: readonly PathSegment[]): boolean {
  return a.length === b.length && a.every((segment, i) => segment === b[i]);
}
