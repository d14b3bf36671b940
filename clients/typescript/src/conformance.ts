import { readFileSync } from 'node:fs';
import type { ProxyServiceClient } from './client.js';
import { PATHS, type Answer } from './transport.js';

/**
 * The conformance suite runner (clients/PROTOCOL.md, clients/conformance/cases.json) over this client's own
 * transport (ProxyServiceClient.call: its endpoint, TLS and headers code). The fixture broker is started by the
 * caller, one per suite.
 */
export interface Step {
  readonly call: 'request' | 'feedback' | 'health' | 'raw';
  readonly token?: string | null;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  readonly gzip?: boolean;
  readonly method?: string;
  readonly path?: string;
  readonly text?: string;
  readonly repeat?: number;
  readonly expect: {
    readonly status: number;
    readonly headers?: Readonly<Record<string, unknown>>;
    readonly body?: unknown;
  };
  readonly save?: Readonly<Record<string, string>>;
}

export interface Case {
  readonly name: string;
  readonly steps: readonly Step[];
}

export interface Suite {
  readonly name: string;
  readonly fixture: unknown;
  readonly cases: readonly Case[];
}

export function loadSuites(file: string): Suite[] {
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown; suites?: Suite[] };
  if (parsed.version !== 1 || !Array.isArray(parsed.suites)) throw new Error(`${file}: not a version 1 cases file`);
  return parsed.suites;
}

type Saved = ReadonlyMap<string, unknown>;

/** `{"$saved": NAME}` anywhere in `value` replaced by that saved value. */
export function withSaved(value: unknown, saved: Saved): unknown {
  if (Array.isArray(value)) return value.map((item) => withSaved(item, saved));
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    if (entries.length === 1 && entries[0]?.[0] === '$saved') return saved.get(String(entries[0][1]));
    return Object.fromEntries(entries.map(([key, item]) => [key, withSaved(item, saved)]));
  }
  return value;
}

const typeOf = (value: unknown): string =>
  value === null ? 'null' : Array.isArray(value) ? 'array' : value === undefined ? 'absent' : typeof value;

/** JSON equality with absent distinct from everything (true is not 1, key order does not matter). */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (typeOf(a) !== typeOf(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((item, i) => sameJson(item, b[i]));
  if (typeOf(a) === 'object') {
    const left = a as Record<string, unknown>;
    const right = b as Record<string, unknown>;
    const keys = Object.keys(left);
    return (
      keys.length === Object.keys(right).length && keys.every((key) => key in right && sameJson(left[key], right[key]))
    );
  }
  return a === b;
}

const show = (value: unknown): string => (value === undefined ? 'absent' : JSON.stringify(value));

function operator(key: string, arg: unknown, got: unknown, saved: Saved): boolean {
  switch (key) {
    case '$match':
      return typeof got === 'string' && new RegExp(String(arg)).test(got);
    case '$saved':
      return sameJson(got, saved.get(String(arg)));
    case '$not_saved':
      return !sameJson(got, saved.get(String(arg)));
    case '$one_of':
      return Array.isArray(arg) && arg.some((option) => sameJson(option, got));
    case '$type':
      return arg === 'integer' ? Number.isInteger(got) : typeOf(got) === arg;
    case '$length':
      return Array.isArray(got) && got.length === arg;
    case '$absent':
      return arg === true ? got === undefined : got !== undefined;
    default:
      return false;
  }
}

/** PROTOCOL.md's MATCH: the first mismatch as `path: what`, or null. */
export function mismatch(want: unknown, got: unknown, saved: Saved, at: string): string | null {
  if (want !== null && typeof want === 'object' && !Array.isArray(want)) {
    const entries = Object.entries(want);
    const [key, arg] = entries[0] ?? [];
    if (entries.length === 1 && key?.startsWith('$')) {
      return operator(key, arg, got, saved) ? null : `${at}: ${show(got)} is not ${JSON.stringify(want)}`;
    }
    if (typeOf(got) !== 'object') return `${at}: ${show(got)} is not an object`;
    for (const [name, item] of entries) {
      const found = mismatch(item, (got as Record<string, unknown>)[name], saved, `${at}.${name}`);
      if (found !== null) return found;
    }
    return null;
  }
  if (Array.isArray(want)) {
    if (!Array.isArray(got) || got.length !== want.length) {
      return `${at}: ${show(got)} is not ${String(want.length)} items`;
    }
    for (const [index, item] of want.entries()) {
      const found = mismatch(item, got[index], saved, `${at}[${String(index)}]`);
      if (found !== null) return found;
    }
    return null;
  }
  return sameJson(want, got) ? null : `${at}: ${show(got)} is not ${JSON.stringify(want)}`;
}

/** The value at a dotted path of a body (undefined when it is not there). */
export const valueAt = (body: unknown, path: string): unknown =>
  path
    .split('.')
    .reduce<unknown>(
      (value, key) =>
        value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined,
      body,
    );

/**
 * One step through the client's transport. `request` / `feedback` / `health` go as the client sends them (its
 * correlation id, JSON content type, gzip when asked); `raw` sends method, path, headers and text as given, with
 * no X-Request-Id of the client's own. `token` null or absent: no Authorization of the client's.
 */
export function sendStep(client: ProxyServiceClient, step: Step, saved: Saved): Promise<Answer> {
  const token = step.token ?? null;
  const headers = step.headers ?? {};
  if (step.call === 'raw') {
    return client.call(step.method ?? 'GET', step.path ?? '/', {
      text: step.text ?? '',
      token,
      headers,
      correlation: false,
    });
  }
  if (step.call === 'health') return client.call('GET', PATHS.health, { token, headers });
  return client.call('POST', PATHS[step.call], {
    ...(step.body === undefined ? {} : { body: withSaved(step.body, saved) }),
    token,
    headers,
    gzip: step.gzip === true,
  });
}

/** Runs a case's steps in order; the failures found, each `step N (call): what` (empty: the case passed). */
export async function runCase(client: ProxyServiceClient, entry: Case): Promise<string[]> {
  const saved = new Map<string, unknown>();
  for (const [index, step] of entry.steps.entries()) {
    const where = `step ${String(index + 1)} (${step.call})`;
    let answer: Answer;
    try {
      answer = await sendStep(client, step, saved);
      for (let again = 1; again < (step.repeat ?? 1); again++) answer = await sendStep(client, step, saved);
    } catch (error) {
      return [`${where}: ${error instanceof Error ? error.message : String(error)}`];
    }
    const body = answer.isJson ? answer.json : undefined;
    const failures: string[] = [];
    if (answer.status !== step.expect.status) {
      failures.push(
        `${where}: status ${String(answer.status)}, want ${String(step.expect.status)}; body ${answer.body.subarray(0, 300).toString()}`,
      );
    }
    // Header names are matched lower case (the answer's are).
    const wantHeaders = Object.fromEntries(
      Object.entries(step.expect.headers ?? {}).map(([name, want]) => [name.toLowerCase(), want]),
    );
    const headers = mismatch(wantHeaders, answer.headers, saved, 'headers');
    if (headers !== null) failures.push(`${where}: ${headers}`);
    if (step.expect.body !== undefined) {
      const found = mismatch(step.expect.body, body, saved, 'body');
      if (found !== null) failures.push(`${where}: ${found}`);
    }
    if (failures.length > 0) return failures;
    for (const [name, path] of Object.entries(step.save ?? {})) saved.set(name, valueAt(body, path));
  }
  return [];
}
