import { readFileSync } from 'node:fs';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { redactUrl } from '../gateway/redact.js';
import { packagePath } from '../package-root.js';
import { fieldAt, schemaProblem, type BodyProblem } from '../schema-problem.js';

export type { BodyProblem } from '../schema-problem.js';

export type BodyResult<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problem: BodyProblem };

export interface ProxyRequestBody {
  readonly exchangeId: string;
  readonly connectionType: string;
  readonly region: string;
  readonly clientId: string | null;
  readonly metadata: Readonly<Record<string, unknown>>;
}

export type FeedbackKind = 'connect' | 'result' | 'timeout' | 'release';

export interface FeedbackEvent {
  readonly leaseId: string | null;
  readonly proxyId: string | null;
  /** The reported proxy_url without its credentials (`socks5h://host:port`). */
  readonly proxyUrl: string | null;
  readonly exchangeId: string | null;
  readonly connectionType: string | null;
  readonly event: FeedbackKind;
  readonly success: boolean | null;
  readonly latencyMs: number | null;
  readonly statusCode: number | null;
  /** With any `scheme://user:pass@` credentials hidden (`scheme://[redacted]@`, as the gateway's redaction). */
  readonly errorDetails: string | null;
  /** ms since the epoch, or null when the client sent none. */
  readonly timestamp: number | null;
  readonly clientId: string | null;
}

const REQUEST_ID = 'urn:torfleet:schema:broker:proxy-request';
const FEEDBACK_ID = 'urn:torfleet:schema:broker:proxy-feedback';
const MAX_BATCH = 1000;
/** The feedback schema's `anyOf`: which proxy the event is about. */
const ANY_PROXY = 'give lease_id, proxy_id or proxy_url: which proxy it was';

let validators: { request: ValidateFunction; event: ValidateFunction } | undefined;

/** Compiles schemas/broker/*.schema.json once (the files are the contract clients and the conformance suite read). */
function compiled(): { request: ValidateFunction; event: ValidateFunction } {
  if (!validators) {
    const ajv = new Ajv2020({
      allErrors: false,
      verbose: true,
      strict: true,
      strictRequired: false,
      allowUnionTypes: true,
    });
    for (const file of ['proxy-request.schema.json', 'proxy-feedback.schema.json']) {
      ajv.addSchema(JSON.parse(readFileSync(packagePath('schemas', 'broker', file), 'utf8')) as object);
    }
    const request = ajv.getSchema(REQUEST_ID);
    const event = ajv.getSchema(`${FEEDBACK_ID}#/$defs/event`);
    if (!request || !event) throw new Error('schemas/broker: the request or feedback schema is missing');
    validators = { request, event };
  }
  return validators;
}

/** A parsed JSON body of `POST /api/v1/proxy/request`. */
export function parseProxyRequest(body: unknown): BodyResult<ProxyRequestBody> {
  const { request } = compiled();
  if (!request(body)) return { ok: false, problem: schemaProblem(request.errors, '', ANY_PROXY) };
  const value = body as Record<string, unknown>;
  return {
    ok: true,
    value: {
      exchangeId: value.exchange_id as string,
      connectionType: value.connection_type as string,
      region: value.region as string,
      clientId: typeof value.client_id === 'string' ? value.client_id : null,
      metadata: (value.metadata as Record<string, unknown> | undefined) ?? {},
    },
  };
}

/** A parsed JSON body of `POST /api/v1/proxy/feedback`: one event or an array of them (at most 1000). */
export function parseFeedback(body: unknown): BodyResult<readonly FeedbackEvent[]> {
  const batch = Array.isArray(body);
  const items: unknown[] = batch ? body : [body];
  if (batch && (items.length === 0 || items.length > MAX_BATCH)) {
    return {
      ok: false,
      problem: { field: '', message: `a batch holds 1 to ${MAX_BATCH} events, not ${items.length}` },
    };
  }
  const { event } = compiled();
  const events: FeedbackEvent[] = [];
  for (const [index, item] of items.entries()) {
    const prefix = batch ? `[${index}]` : '';
    if (!event(item)) return { ok: false, problem: schemaProblem(event.errors, prefix, ANY_PROXY) };
    const parsed = feedbackEvent(item as Record<string, unknown>, prefix);
    if ('problem' in parsed) return { ok: false, problem: parsed.problem };
    events.push(parsed.event);
  }
  return { ok: true, value: events };
}

function feedbackEvent(
  value: Record<string, unknown>,
  prefix: string,
): { event: FeedbackEvent } | { problem: BodyProblem } {
  const text = (key: string): string | null => (typeof value[key] === 'string' ? value[key] : null);
  const number = (key: string): number | null => (typeof value[key] === 'number' ? value[key] : null);
  let proxyUrl: string | null = null;
  const reported = text('proxy_url');
  if (reported !== null) {
    proxyUrl = withoutCredentials(reported);
    if (proxyUrl === null) {
      return {
        problem: { field: fieldAt(prefix, 'proxy_url'), message: 'not a URL such as socks5h://127.0.0.1:19050' },
      };
    }
  }
  let timestamp: number | null = null;
  if (typeof value.timestamp === 'number') timestamp = value.timestamp;
  else if (typeof value.timestamp === 'string') {
    timestamp = Date.parse(value.timestamp);
    if (Number.isNaN(timestamp)) {
      return {
        problem: {
          field: fieldAt(prefix, 'timestamp'),
          message: 'not a time: send ms since the epoch or an ISO 8601 time such as 2026-12-02T10:00:00Z',
        },
      };
    }
  }
  const details = text('error_details');
  return {
    event: {
      leaseId: text('lease_id'),
      proxyId: text('proxy_id'),
      proxyUrl,
      exchangeId: text('exchange_id'),
      connectionType: text('connection_type'),
      event: value.event as FeedbackKind,
      success: typeof value.success === 'boolean' ? value.success : null,
      latencyMs: number('latency_ms'),
      statusCode: number('status_code'),
      errorDetails: details === null ? null : redactUrl(details),
      timestamp,
      clientId: text('client_id'),
    },
  };
}

/** `scheme://host:port` of a URL, without user name, password, path or query; null when it is not a URL. */
function withoutCredentials(text: string): string | null {
  try {
    const url = new URL(text);
    return url.host === '' ? null : `${url.protocol}//${url.host}`;
  } catch {
    return null;
  }
}
