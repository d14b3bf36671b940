/** Feedback events as the wire has them (clients/PROTOCOL.md, schemas/broker/proxy-feedback.schema.json). */
export interface FeedbackEvent {
  /** One of leaseId, proxyId, proxyUrl names the proxy; null (as `lease.leaseId` of an embedded lease) is absent. */
  readonly leaseId?: string | null;
  readonly proxyId?: string | null;
  readonly proxyUrl?: string | null;
  readonly exchangeId?: string;
  readonly connectionType?: string;
  readonly event: 'connect' | 'result' | 'timeout' | 'release';
  readonly success?: boolean;
  readonly latencyMs?: number;
  readonly statusCode?: number;
  readonly errorDetails?: string;
  /** Milliseconds since the epoch or an ISO 8601 string; added (now) when absent. */
  readonly timestamp?: number | string;
  readonly clientId?: string;
}

/** The same event with the wire's field names (as the Python client takes it): also accepted. */
export interface WireFeedbackEvent {
  readonly lease_id?: string;
  readonly proxy_id?: string;
  readonly proxy_url?: string;
  readonly exchange_id?: string;
  readonly connection_type?: string;
  readonly event: FeedbackEvent['event'];
  readonly success?: boolean;
  readonly latency_ms?: number;
  readonly status_code?: number;
  readonly error_details?: string;
  readonly timestamp?: number | string;
  readonly client_id?: string;
}

/** At most this many events in one batch (the service's limit) and at most this many bytes of JSON. */
export const FEEDBACK_BATCH = 1000;
export const FEEDBACK_BATCH_BYTES = 1 << 20;

/** Each field's wire name; both the camelCase and the wire (snake_case) names are taken. */
const WIRE_NAMES: Readonly<Record<string, string>> = Object.fromEntries(
  [
    'lease_id',
    'proxy_id',
    'proxy_url',
    'exchange_id',
    'connection_type',
    'event',
    'success',
    'latency_ms',
    'status_code',
    'error_details',
    'timestamp',
    'client_id',
  ].flatMap((wire) => [
    [wire, wire],
    [wire.replace(/_([a-z])/g, (_all, letter: string) => letter.toUpperCase()), wire],
  ]),
);
const PROXY_NAMES = new Set(['lease_id', 'proxy_id', 'proxy_url']);
const EVENTS = new Set(['connect', 'result', 'timeout', 'release']);
const ID_RE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const TYPE_RE = /^[a-z][a-z0-9_-]{0,31}$/;

const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

/** The event with wire field names, or what makes it unusable (the service would refuse the whole batch for it). */
export function toWireEvent(event: unknown): Record<string, unknown> | string {
  if (event === null || typeof event !== 'object' || Array.isArray(event)) return 'not an object';
  const wire: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(event)) {
    const name = WIRE_NAMES[key];
    if (name === undefined) return `unknown field ${JSON.stringify(key)}`;
    if (name in wire) return `${name} given twice`;
    // A proxy name given as null (an embedded lease has no lease id) is as good as absent: another may name it.
    if (value !== undefined && !(value === null && PROXY_NAMES.has(name))) wire[name] = value;
  }
  const problem = checkWireEvent(wire);
  return problem ?? wire;
}

/** Python's check_feedback_event: null when the service would take the event. */
export function checkWireEvent(event: Readonly<Record<string, unknown>>): string | null {
  if (typeof event.event !== 'string' || !EVENTS.has(event.event)) {
    return 'event must be one of connect, result, timeout, release';
  }
  let named = false;
  for (const [key, limit] of [
    ['lease_id', 64],
    ['proxy_id', 64],
    ['proxy_url', 512],
  ] as const) {
    if (key in event) {
      const value = event[key];
      if (typeof value !== 'string' || value.length < 1 || value.length > limit) {
        return `${key} must be a string of 1-${String(limit)}`;
      }
      named = true;
    }
  }
  if (!named) return 'lease_id, proxy_id or proxy_url is required';
  const { exchange_id, connection_type, success, latency_ms, status_code, error_details, client_id, timestamp } = event;
  if ('exchange_id' in event && !(typeof exchange_id === 'string' && ID_RE.test(exchange_id))) {
    return 'bad exchange_id';
  }
  if ('connection_type' in event && !(typeof connection_type === 'string' && TYPE_RE.test(connection_type))) {
    return 'bad connection_type';
  }
  if ('success' in event && typeof success !== 'boolean') return 'success must be a boolean';
  if ('latency_ms' in event && !(isNumber(latency_ms) && latency_ms >= 0 && latency_ms <= 3_600_000)) {
    return 'latency_ms must be a number 0-3600000';
  }
  if (
    'status_code' in event &&
    !(isNumber(status_code) && Number.isInteger(status_code) && status_code >= 100 && status_code <= 599)
  ) {
    return 'status_code must be an integer 100-599';
  }
  if ('error_details' in event && !(typeof error_details === 'string' && error_details.length <= 1024)) {
    return 'error_details must be a string of at most 1024';
  }
  if ('client_id' in event && !(typeof client_id === 'string' && client_id.length <= 128)) {
    return 'client_id must be a string of at most 128';
  }
  if ('timestamp' in event && !(isNumber(timestamp) || typeof timestamp === 'string')) {
    return 'timestamp must be ms since the epoch or an ISO 8601 string';
  }
  return null;
}

/**
 * The bounded buffer of events waiting to be sent, each already as its JSON text (a snapshot of the event when
 * it was given, and its size known for the 1 MiB batches).
 */
export class FeedbackBuffer {
  #events: string[] = [];
  #bytes: number[] = [];

  constructor(readonly capacity: number) {}

  get length(): number {
    return this.#events.length;
  }

  /** False when full (the event is not kept). */
  push(json: string): boolean {
    if (this.#events.length >= this.capacity) return false;
    this.#events.push(json);
    this.#bytes.push(Buffer.byteLength(json));
    return true;
  }

  /** The next batch from the front: at most FEEDBACK_BATCH events and FEEDBACK_BATCH_BYTES bytes as a JSON array. */
  take(): string[] {
    let count = 0;
    let bytes = 2;
    while (count < this.#events.length && count < FEEDBACK_BATCH) {
      const size = (this.#bytes[count] ?? 0) + (count > 0 ? 1 : 0);
      if (count > 0 && bytes + size > FEEDBACK_BATCH_BYTES) break;
      bytes += size;
      count++;
    }
    this.#bytes.splice(0, count);
    return this.#events.splice(0, count);
  }

  /** A batch that could not be sent goes back in front while there is room; returns how many were kept. */
  putBack(batch: readonly string[]): number {
    const kept = batch.slice(0, Math.max(0, this.capacity - this.#events.length));
    this.#events.unshift(...kept);
    this.#bytes.unshift(...kept.map((json) => Buffer.byteLength(json)));
    return kept.length;
  }

  /** Everything left, emptied. */
  drain(): string[] {
    this.#bytes = [];
    const all = this.#events;
    this.#events = [];
    return all;
  }
}

export const batchPayload = (batch: readonly string[]): string => `[${batch.join(',')}]`;
