import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createInterface } from 'node:readline';
import { after, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { packagePath } from '../package-root.js';

/**
 * The conformance suite (clients/conformance/cases.json, clients/PROTOCOL.md) against the real service: each suite
 * starts the fixture broker (the broker's own HTTP server and decisions on a fixed fleet) and sends every step with
 * node's plain HTTP client. The TypeScript and Python clients run the same file through their own transports.
 */
interface Step {
  readonly call: 'request' | 'feedback' | 'health' | 'raw';
  readonly token?: string | null;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
  readonly gzip?: boolean;
  readonly method?: string;
  readonly path?: string;
  readonly text?: string;
  readonly repeat?: number;
  readonly expect: { readonly status: number; readonly headers?: Record<string, unknown>; readonly body?: unknown };
  readonly save?: Record<string, string>;
}
interface Suite {
  readonly name: string;
  readonly cases: readonly { readonly name: string; readonly steps: readonly Step[] }[];
}

const CASES = packagePath('clients', 'conformance', 'cases.json');
const FIXTURE_BROKER = packagePath('dist', 'reconciler', 'src', 'testing', 'fixture-broker.js');
const suites = (JSON.parse(readFileSync(CASES, 'utf8')) as { suites: Suite[] }).suites;
const PATHS = { request: '/api/v1/proxy/request', feedback: '/api/v1/proxy/feedback', health: '/api/v1/proxy/health' };

async function startFixture(suite: string): Promise<{ url: URL; child: ChildProcess }> {
  const child = spawn(process.execPath, [FIXTURE_BROKER, CASES, '--suite', suite], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => {
      reject(new Error(`fixture broker ended (${String(code)}) before listening`));
    });
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).once('line', resolve);
  });
  return { url: new URL((JSON.parse(line) as { url: string }).url), child };
}

function send(
  base: URL,
  step: Step,
  saved: ReadonlyMap<string, unknown>,
): Promise<{ status: number; headers: Record<string, unknown>; body: unknown }> {
  const method = step.call === 'raw' ? (step.method ?? 'GET') : step.call === 'health' ? 'GET' : 'POST';
  const path = step.call === 'raw' ? (step.path ?? '/') : PATHS[step.call];
  let payload: Buffer | undefined =
    step.call === 'raw'
      ? Buffer.from(step.text ?? '')
      : step.body === undefined
        ? undefined
        : Buffer.from(JSON.stringify(withSaved(step.body, saved)));
  const headers: Record<string, string> = { ...step.headers };
  if (step.token) headers.authorization = `Bearer ${step.token}`;
  if (payload && step.call !== 'raw') headers['content-type'] = 'application/json';
  if (payload && step.gzip) {
    payload = gzipSync(payload);
    headers['content-encoding'] = 'gzip';
  }
  return new Promise((resolve, reject) => {
    const call = httpRequest(
      {
        host: base.hostname,
        port: base.port,
        method,
        path,
        headers: { ...headers, ...(payload ? { 'content-length': String(payload.length) } : {}) },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: text === '' ? null : JSON.parse(text),
          });
        });
      },
    );
    call.on('error', reject);
    call.end(payload);
  });
}

function withSaved(value: unknown, saved: ReadonlyMap<string, unknown>): unknown {
  if (Array.isArray(value)) return value.map((item) => withSaved(item, saved));
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    if (entries.length === 1 && entries[0]?.[0] === '$saved') return saved.get(String(entries[0][1]));
    return Object.fromEntries(entries.map(([key, item]) => [key, withSaved(item, saved)]));
  }
  return value;
}

const typeOf = (value: unknown): string => (value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value);

/** PROTOCOL.md's MATCH; returns the first mismatch as `path: what`, or null. */
function mismatch(want: unknown, got: unknown, saved: ReadonlyMap<string, unknown>, at: string): string | null {
  if (want !== null && typeof want === 'object' && !Array.isArray(want)) {
    const operator = Object.entries(want);
    const [key, arg] = operator[0] ?? [];
    if (operator.length === 1 && key?.startsWith('$')) {
      const ok =
        key === '$match'
          ? typeof got === 'string' && new RegExp(String(arg)).test(got)
          : key === '$saved'
            ? JSON.stringify(got) === JSON.stringify(saved.get(String(arg)))
            : key === '$not_saved'
              ? JSON.stringify(got) !== JSON.stringify(saved.get(String(arg)))
              : key === '$one_of'
                ? (arg as unknown[]).some((option) => JSON.stringify(option) === JSON.stringify(got))
                : key === '$type'
                  ? arg === 'integer'
                    ? Number.isInteger(got)
                    : typeOf(got) === arg
                  : key === '$length'
                    ? Array.isArray(got) && got.length === arg
                    : key === '$absent'
                      ? got === undefined
                      : false;
      return ok ? null : `${at}: ${JSON.stringify(got)} is not ${JSON.stringify(want)}`;
    }
    if (typeOf(got) !== 'object') return `${at}: ${JSON.stringify(got)} is not an object`;
    for (const [name, item] of Object.entries(want)) {
      const found = mismatch(item, (got as Record<string, unknown>)[name], saved, `${at}.${name}`);
      if (found) return found;
    }
    return null;
  }
  if (Array.isArray(want)) {
    if (!Array.isArray(got) || got.length !== want.length)
      return `${at}: ${JSON.stringify(got)} is not ${want.length} items`;
    for (const [index, item] of want.entries()) {
      const found = mismatch(item, got[index], saved, `${at}[${index}]`);
      if (found) return found;
    }
    return null;
  }
  return want === got ? null : `${at}: ${JSON.stringify(got)} is not ${JSON.stringify(want)}`;
}

const valueAt = (body: unknown, path: string): unknown =>
  path.split('.').reduce<unknown>((value, key) => (value as Record<string, unknown> | null)?.[key], body);

for (const suite of suites) {
  describe(`conformance suite ${suite.name} against the service`, async () => {
    const { url, child } = await startFixture(suite.name);
    after(() => {
      child.kill('SIGTERM');
    });
    for (const entry of suite.cases) {
      test(entry.name, async () => {
        const saved = new Map<string, unknown>();
        for (const [index, step] of entry.steps.entries()) {
          let answer = await send(url, step, saved);
          for (let again = 1; again < (step.repeat ?? 1); again++) answer = await send(url, step, saved);
          const where = `step ${index + 1} (${step.call})`;
          assert.equal(answer.status, step.expect.status, `${where}: status; body ${JSON.stringify(answer.body)}`);
          const headers = mismatch(step.expect.headers ?? {}, answer.headers, saved, 'headers');
          assert.equal(headers, null, where);
          const body = step.expect.body === undefined ? null : mismatch(step.expect.body, answer.body, saved, 'body');
          assert.equal(body, null, where);
          for (const [name, path] of Object.entries(step.save ?? {})) saved.set(name, valueAt(answer.body, path));
        }
      });
    }
  });
}
