import { request as httpRequest, type ClientRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { performance } from 'node:perf_hooks';
import type { Endpoint } from './endpoints.js';
import { TransportError } from './errors.js';

export const PATHS = {
  request: '/api/v1/proxy/request',
  feedback: '/api/v1/proxy/feedback',
  health: '/api/v1/proxy/health',
} as const;

export const USER_AGENT = 'torfleet-client-typescript/1';

/** One HTTP exchange: status, headers (lower-case names), the raw body and its JSON. */
export interface Answer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
  /** The body parsed; null when it is empty or not JSON (see `isJson`). */
  readonly json: unknown;
  /** Whether the body is non-empty JSON. */
  readonly isJson: boolean;
  /** The answer's X-Request-Id, else the one sent ('' when none). */
  readonly requestId: string;
  readonly endpoint: string;
}

export interface ExchangeOptions {
  readonly method: string;
  readonly path: string;
  readonly payload: Buffer | null;
  /** Lower-case names; an `x-request-id` here is sent as it is. */
  readonly headers: Readonly<Record<string, string>>;
  /** Sent as `Authorization: Bearer TOKEN` (over any in `headers`) unless null or empty. */
  readonly token: string | null;
  /** performance.now() milliseconds: the exchange as a whole (connect, TLS, headers, body) ends by then. */
  readonly deadline: number;
  /** The X-Request-Id to send when `headers` has none: a string, or false for none. */
  readonly requestId: string | false;
  readonly maxAnswerBytes: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A failure worth one more try on a new connection: a kept-alive one the server had closed meanwhile. */
class StaleConnection extends TransportError {}

/**
 * One exchange with one endpoint, bounded by `deadline` as a whole (a timer destroys a socket that drips), the
 * answer capped at `maxAnswerBytes`. Throws TransportError for anything that is not a whole HTTP answer.
 */
export async function exchange(endpoint: Endpoint, options: ExchangeOptions): Promise<Answer> {
  const headers: OutgoingHttpHeaders = { 'user-agent': USER_AGENT, ...options.headers };
  const rid = options.headers['x-request-id'] ?? (options.requestId === false ? undefined : options.requestId);
  if (rid !== undefined) headers['x-request-id'] = rid;
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.payload !== null || options.method === 'POST' || options.method === 'PUT') {
    headers['content-length'] = String(options.payload?.length ?? 0);
  }
  for (let attempt = 0; ; attempt++) {
    try {
      return await once(endpoint, options, headers, rid ?? '');
    } catch (error) {
      if (error instanceof StaleConnection && attempt === 0) continue;
      throw error;
    }
  }
}

function once(
  endpoint: Endpoint,
  options: ExchangeOptions,
  headers: OutgoingHttpHeaders,
  rid: string,
): Promise<Answer> {
  const remaining = options.deadline - performance.now();
  if (remaining <= 0) return Promise.reject(new TransportError('timed out'));
  return new Promise<Answer>((resolve, reject) => {
    let settled = false;
    let answered = false;
    const send = endpoint.https ? httpsRequest : httpRequest;
    const call: ClientRequest = send({
      host: endpoint.host,
      port: endpoint.port,
      method: options.method,
      path: endpoint.prefix + options.path,
      headers,
      agent: endpoint.agent,
    });
    const fail = (error: TransportError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(error);
      call.destroy();
    };
    const timer = setTimeout(() => {
      fail(new TransportError('timed out'));
    }, remaining);
    call.on('error', (error: NodeJS.ErrnoException) => {
      if (!answered && call.reusedSocket && (error.code === 'ECONNRESET' || error.code === 'EPIPE')) {
        fail(new StaleConnection(describe(error)));
      } else {
        fail(new TransportError(describe(error)));
      }
    });
    call.on('response', (response: IncomingMessage) => {
      answered = true;
      const length = response.headers['content-length'];
      if (length !== undefined && Number(length) > options.maxAnswerBytes) {
        fail(new TransportError(`answer of ${length} bytes is over ${String(options.maxAnswerBytes)}`));
        return;
      }
      const chunks: Buffer[] = [];
      let total = 0;
      response.on('data', (chunk: Buffer) => {
        total += chunk.length;
        if (total > options.maxAnswerBytes) {
          fail(new TransportError(`answer over ${String(options.maxAnswerBytes)} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      response.on('error', () => {
        fail(new TransportError('answer cut short'));
      });
      response.on('close', () => {
        if (!response.complete) fail(new TransportError('answer cut short'));
      });
      response.on('end', () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(toAnswer(response, Buffer.concat(chunks), rid, endpoint.url));
      });
    });
    call.end(options.payload ?? undefined);
  });
}

function toAnswer(response: IncomingMessage, body: Buffer, rid: string, endpoint: string): Answer {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(response.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  let json: unknown = null;
  let isJson = false;
  if (body.length > 0) {
    try {
      json = JSON.parse(utf8.decode(body));
      isJson = true;
    } catch {
      json = null;
    }
  }
  const status = response.statusCode ?? 0;
  return { status, headers, body, json, isJson, requestId: headers['x-request-id'] ?? rid, endpoint };
}

function describe(error: NodeJS.ErrnoException): string {
  const code = error.code ?? '';
  if (/CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_OSSL/.test(code)) return `TLS: ${code}: ${error.message}`;
  if (code.startsWith('HPE_')) return `not HTTP: ${code}: ${error.message}`;
  return code && !error.message.includes(code) ? `${code}: ${error.message}` : error.message;
}
