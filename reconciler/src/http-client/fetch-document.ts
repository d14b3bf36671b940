import { promisify } from 'node:util';
import { gunzip, inflate } from 'node:zlib';
import { request } from 'undici';
import { errorMessage, TorfleetError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import {
  backoffDelay,
  DEFAULT_RETRY_POLICY,
  isRetryableStatus,
  parseRetryAfter,
  type RetryPolicy,
} from './retry-policy.js';

const gunzipAsync = promisify(gunzip);
const inflateAsync = promisify(inflate);

export interface FetchDocumentOptions {
  /** Names the document in messages: "onionoo details", "consensus". */
  readonly what: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Per attempt, from request to the last body byte. */
  readonly timeoutMs?: number;
  readonly retry?: RetryPolicy;
  /** Largest body accepted, compressed and decompressed. */
  readonly maxBytes?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
  readonly now?: () => Date;
  readonly log?: Logger;
}

export interface FetchedDocument {
  readonly status: 200 | 304;
  readonly lastModified: string | undefined;
  readonly contentType: string | undefined;
  /** The decompressed body; empty for 304. */
  readonly body: Buffer;
}

const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_MAX_BYTES = 256 * 1024 * 1024;

/** A failure worth another attempt, with the server's Retry-After if it sent one. */
class RetryableFailure extends Error {
  constructor(
    message: string,
    readonly retryAfterMs: number | undefined,
  ) {
    super(message);
  }
}

/**
 * GETs a document with gzip, timeouts and retries (capped exponential backoff with jitter; a 429/503's
 * Retry-After is honoured up to `retry.maxRetryAfterMs`). 200 and 304 are answers; other statuses,
 * network errors and timeouts are retried when they can pass, and end in a typed error otherwise.
 */
export async function fetchDocument(url: string, options: FetchDocumentOptions): Promise<FetchedDocument> {
  const policy = options.retry ?? DEFAULT_RETRY_POLICY;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const random = options.random ?? Math.random;
  const now = options.now ?? (() => new Date());
  const log = options.log ?? silentLogger;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fetchOnce(url, options);
    } catch (error) {
      if (!(error instanceof RetryableFailure)) throw error;
      if (attempt >= policy.attempts) {
        throw new TorfleetError(
          'NODE_SOURCE_UNAVAILABLE',
          'waiting',
          `${options.what} at ${url} is unavailable after ${policy.attempts} attempts: ${error.message}`,
        );
      }
      if (error.retryAfterMs !== undefined && error.retryAfterMs > policy.maxRetryAfterMs) {
        throw new TorfleetError(
          'NODE_SOURCE_UNAVAILABLE',
          'waiting',
          `${options.what} at ${url}: ${error.message}; the server asks to wait ${Math.ceil(error.retryAfterMs / 1000)} s, so this refresh gives up and a later one will try`,
        );
      }
      const delay = Math.max(error.retryAfterMs ?? 0, backoffDelay(policy, attempt, random));
      log.warn('fetch failed, retrying', { what: options.what, url, attempt, error: error.message, delayMs: delay });
      await sleep(delay);
    }
  }

  async function fetchOnce(target: string, opts: FetchDocumentOptions): Promise<FetchedDocument> {
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
    let response;
    try {
      response = await request(target, {
        method: 'GET',
        headers: { 'accept-encoding': 'gzip', 'user-agent': 'torfleet', ...opts.headers },
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw new RetryableFailure(errorMessage(error), undefined);
    }
    const header = (name: string): string | undefined => {
      const value = response.headers[name];
      return Array.isArray(value) ? value[0] : value;
    };
    if (response.statusCode === 304) {
      await response.body.dump();
      return { status: 304, lastModified: header('last-modified'), contentType: undefined, body: Buffer.alloc(0) };
    }
    if (response.statusCode !== 200) {
      await response.body.dump();
      const message = `HTTP ${response.statusCode}`;
      if (isRetryableStatus(response.statusCode)) {
        throw new RetryableFailure(message, parseRetryAfter(header('retry-after'), now()));
      }
      throw new TorfleetError(
        'NODE_SOURCE_INVALID',
        'generic',
        `${opts.what} at ${target} answered ${message}; check the URL`,
      );
    }
    let raw: Buffer;
    try {
      raw = await readBody(response.body, maxBytes);
    } catch (error) {
      if (error instanceof TorfleetError) throw error;
      throw new RetryableFailure(`reading the body failed: ${errorMessage(error)}`, undefined);
    }
    const body = await decode(raw, header('content-encoding'), maxBytes, opts.what, target);
    return { status: 200, lastModified: header('last-modified'), contentType: header('content-type'), body };
  }
}

async function readBody(body: AsyncIterable<Buffer>, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > maxBytes) {
      throw new TorfleetError('NODE_SOURCE_INVALID', 'generic', `the body is larger than ${maxBytes} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

async function decode(
  raw: Buffer,
  encoding: string | undefined,
  maxBytes: number,
  what: string,
  url: string,
): Promise<Buffer> {
  const name = (encoding ?? 'identity').trim().toLowerCase();
  try {
    if (name === 'gzip' || name === 'x-gzip') return await gunzipAsync(raw, { maxOutputLength: maxBytes });
    if (name === 'deflate') return await inflateAsync(raw, { maxOutputLength: maxBytes });
  } catch (error) {
    throw new TorfleetError('NODE_SOURCE_INVALID', 'generic', `${what} at ${url}: the ${name} body cannot be decoded`, {
      cause: error,
    });
  }
  if (name !== 'identity') {
    throw new TorfleetError(
      'NODE_SOURCE_INVALID',
      'generic',
      `${what} at ${url}: unsupported content-encoding ${name}`,
    );
  }
  return raw;
}
