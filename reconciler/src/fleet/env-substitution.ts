import { quoteText } from './display-text.js';
import type { FleetIssue } from './fleet-issue.js';
import type { LocatedDocument, PathSegment } from './yaml-document.js';

/** `${NAME}`: upper-case letters, digits and underscores, not starting with a digit. */
const REFERENCE = /\$\{([^}]*)\}/g;
const VARIABLE_NAME = /^[A-Z_][A-Z0-9_]*$/;

export interface Substitution {
  readonly path: readonly PathSegment[];
  /** True when the whole string was one `${NAME}` reference. */
  readonly wholeValue: boolean;
  /** The variables referenced, with the text each put in: what messages must never show. */
  readonly variables: readonly { readonly name: string; readonly value: string }[];
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
    const variables: { name: string; value: string }[] = [];
    const replaced = text.replace(REFERENCE, (_match, name: string) => {
      if (!VARIABLE_NAME.test(name)) {
        issues.push(
          document.issueAt(
            path,
            `${quoteText(`\${${name}}`)} is not a valid variable reference; use \${NAME} with A-Z, 0-9 and _`,
          ),
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
      variables.push({ name, value: found });
      return '';
    });
    // What is left once every reference is taken out must not open another one: `"${X"` is a typo, not a value.
    if (replaced.includes('${')) {
      issues.push(
        document.issueAt(path, 'a "${" is not closed by "}"; write a reference as ${NAME}, or remove the "${"'),
      );
    }
    if (issues.length > issuesBefore || variables.length === 0) return text;
    let next = 0;
    const substituted = text.replace(REFERENCE, () => variables[next++]?.value ?? '');
    substitutions.push({ path, wholeValue: /^\$\{[A-Z_][A-Z0-9_]*\}$/.test(text), variables });
    return substituted;
  };

  const value = walk(document.value, []);
  return { value, substitutions, issues };
}
