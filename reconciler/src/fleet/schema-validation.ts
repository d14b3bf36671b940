import { readFileSync } from 'node:fs';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { FLEET_SCHEMA_PATH } from './fleet-schema-path.js';
import { quoteText } from './display-text.js';
import type { EnvOrigins } from './env-origin.js';
import type { FleetIssue } from './fleet-issue.js';
import type { LocatedDocument, PathSegment } from './yaml-document.js';

let compiled: ValidateFunction | undefined;

/** Compiles schemas/fleet.schema.json once; the compiled validator is pure and shared. */
function fleetValidator(): ValidateFunction {
  if (!compiled) {
    const schema = JSON.parse(readFileSync(FLEET_SCHEMA_PATH, 'utf8')) as object;
    const ajv = new Ajv2020({ allErrors: true, verbose: true, strict: true, allowUnionTypes: true });
    compiled = ajv.compile(schema);
  }
  return compiled;
}

/**
 * Checks `value` against the fleet schema and turns every ajv error into a located, readable issue.
 * A value that came from the environment is shown as `[from ${NAME}]` (see EnvOrigins), never its text.
 */
export function validateAgainstSchema(document: LocatedDocument, value: unknown, origins: EnvOrigins): FleetIssue[] {
  const validate = fleetValidator();
  if (validate(value)) return [];
  const issues: FleetIssue[] = [];
  for (const error of validate.errors ?? []) {
    const issue = toIssue(document, error, origins);
    if (issue && !issues.some((i) => i.path === issue.path && i.message === issue.message)) issues.push(issue);
  }
  return issues;
}

function toIssue(document: LocatedDocument, error: ErrorObject, origins: EnvOrigins): FleetIssue | undefined {
  const path = pointerToPath(error.instancePath);
  const data: unknown = error.data;
  const fromEnvironment = origins.isFromEnvironment(path);
  const shown = origins.show(path, data);
  const description = (error.parentSchema as { description?: string } | undefined)?.description;
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'if':
      return undefined; // the failing then/else branch reports the real problem
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      const allowed = Object.keys((error.parentSchema as { properties?: object }).properties ?? {});
      const guess = key.length <= 64 ? closest(key, allowed) : undefined;
      const hint = guess ? `did you mean "${guess}"? ` : '';
      return document.issueAtKey(
        path,
        key,
        `unknown key ${quoteText(key)}; ${hint}allowed keys: ${allowed.join(', ')}`,
      );
    }
    case 'required': {
      const key = String(params.missingProperty);
      const about = propertyDescription(error.parentSchema, key);
      return document.issueAt(path, `missing required key "${key}"${about ? ` (${about})` : ''}`);
    }
    case 'const':
      return document.issueAt(path, `${shown} is not supported; write ${show(params.allowedValue)}`);
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]).map((v) => String(v));
      const expected = allowed.length <= 8 ? `one of: ${allowed.join(', ')}` : (description ?? 'an allowed value');
      // A hint derived from the value would tell something about it: none for values from the environment.
      const hint = typeof data === 'string' && !fromEnvironment ? suggestValue(data, allowed) : '';
      return document.issueAt(path, `${shown} is not ${expected}${hint}`);
    }
    case 'type':
      return document.issueAt(path, `expected ${humanType(String(params.type))}, got ${typeName(data, shown)}`);
    case 'pattern':
      return document.issueAt(path, `${shown} is not ${description ?? `matching ${String(params.pattern)}`}`);
    case 'minimum':
      return document.issueAt(path, `${shown} is below the minimum ${String(params.limit)}`);
    case 'maximum':
      return document.issueAt(path, `${shown} is above the maximum ${String(params.limit)}`);
    case 'maxLength':
      return document.issueAt(path, `longer than ${String(params.limit)} characters`);
    case 'minItems':
      return document.issueAt(path, `needs at least ${String(params.limit)} item(s)`);
    case 'maxItems':
      return document.issueAt(path, `has more than ${String(params.limit)} items`);
    case 'uniqueItems': {
      const second = Number(params.i);
      const itemPath = [...path, second];
      return document.issueAt(itemPath, `${origins.show(itemPath, (data as unknown[])[second])} is listed twice`);
    }
    default:
      return document.issueAt(path, error.message ?? 'is not valid');
  }
}

function pointerToPath(pointer: string): PathSegment[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((raw) => raw.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((segment) => (/^(0|[1-9][0-9]*)$/.test(segment) ? Number(segment) : segment));
}

function propertyDescription(parentSchema: unknown, key: string): string | undefined {
  const properties = (parentSchema as { properties?: Record<string, { description?: string }> }).properties;
  return properties?.[key]?.description;
}

/** A value from the schema itself (never user text). */
function show(value: unknown): string {
  return JSON.stringify(value);
}

/** `shown` is how the value may be quoted (already `[from ${NAME}]` for one from the environment). */
function typeName(value: unknown, shown: string): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'number') return `the number ${value}`;
  return `${typeof value} ${shown}`;
}

function humanType(type: string): string {
  const names: Record<string, string> = {
    object: 'a mapping',
    array: 'a list',
    string: 'a string',
    integer: 'a whole number',
    number: 'a number',
    boolean: 'true or false',
    null: 'null',
  };
  return type
    .split(',')
    .map((t) => names[t] ?? t)
    .join(' or ');
}

/** Common slips: lower case, or a well-known non-ISO code. */
const KNOWN_SLIPS: Readonly<Record<string, string>> = { UK: 'GB', EN: 'GB', EL: 'GR' };

function suggestValue(value: string, allowed: readonly string[]): string {
  const upper = value.toUpperCase();
  if (allowed.includes('NON_US') && /^[A-Za-z]{2}$/.test(value)) return ` (for one country write a list: [${upper}])`;
  if (upper !== value && allowed.includes(upper)) return ` (write it in capitals: "${upper}")`;
  const slip = KNOWN_SLIPS[upper];
  if (slip && allowed.includes(slip)) return ` (did you mean "${slip}"?)`;
  const guess = allowed.length <= 8 ? closest(value, allowed) : undefined;
  return guess ? ` (did you mean "${guess}"?)` : '';
}

/** The allowed word nearest to `word` by edit distance, if it is close enough to be a likely typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return bestDistance <= Math.max(1, Math.floor(word.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
