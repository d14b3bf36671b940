import { pipeline } from 'node:stream';
import { createGunzip, createInflate } from 'node:zlib';
import { errorMessage, TorfleetError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { httpGet, type HttpResponse } from './http-get.js';
import {
  backoffDelay,
  DEFAULT_RETRY_POLICY,
  isRetryableStatus,
  parseRetryAfter,
  type RetryPolicy,
} from './retry-policy.js';

export interface FetchDocumentOptions {
  /** Names the document in messages: "onionoo details", "consensus". */
  readonly what: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Per attempt, from request to the last body byte. */
  readonly timeoutMs?: number;
  readonly retry?: RetryPolicy;
  /** Largest body accepted, after decompression. */
  readonly maxBytes?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
  readonly now?: () => Date;
  readonly log?: Logger;
}

export interface FetchHead {
  readonly status: 200 | 304;
  readonly lastModified: string | undefined;
  readonly contentType: string | undefined;
}

/** Reads a 200's decompressed body as it arrives. Its own errors are final; the body's errors are retried. */
export type BodyConsumer<T> = (head: FetchHead, body: AsyncIterable<Buffer>) => Promise<T>;

export interface FetchedDocument extends FetchHead {
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

/** An error of the body stream itself (connection cut, corrupt gzip), as opposed to the consumer's. */
class BodyReadError extends Error {}

/**
 * GETs a document with gzip, timeouts and retries (capped exponential backoff with jitter; a 429/503's
 * Retry-After is honoured up to `retry.maxRetryAfterMs`), and streams a 200's body to `consume`.
 * Network errors, timeouts and 408/429/5xx are retried; other statuses end in a typed error.
 * For a 304 `consume` is not called and `result` is undefined.
 */
export async function fetchStream<T>(
  url: string,
  options: FetchDocumentOptions,
  consume: BodyConsumer<T>,
): Promise<{ head: FetchHead; result: T | undefined }> {
  const policy = options.retry ?? DEFAULT_RETRY_POLICY;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const random = options.random ?? Math.random;
  const now = options.now ?? (() => new Date());
  const log = options.log ?? silentLogger;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fetchOnce(url, options, consume, now);
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
}

/** fetchStream that collects the whole body: for documents small enough to hold (a consensus). */
export async function fetchDocument(url: string, options: FetchDocumentOptions): Promise<FetchedDocument> {
  const { head, result } = await fetchStream(url, options, async (_head, body) => {
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(chunk);
    return Buffer.concat(chunks);
  });
  return { ...head, body: result ?? Buffer.alloc(0) };
}

async function fetchOnce<T>(
  url: string,
  options: FetchDocumentOptions,
  consume: BodyConsumer<T>,
  now: () => Date,
): Promise<{ head: FetchHead; result: T | undefined }> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const headers = { 'accept-encoding': 'gzip', 'user-agent': 'torfleet', ...options.headers };
  let response: HttpResponse;
  try {
    response = await httpGet(url, { headers, idleTimeoutMs: timeoutMs, signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    throw new RetryableFailure(errorMessage(error), undefined);
  }
  const header = (name: string): string | undefined => {
    const value = response.headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  if (response.status === 304) {
    response.body.destroy();
    if (!isConditional(headers)) {
      // "Not modified" since when? Taking it as "nothing changed" would keep a stale database for ever.
      throw new TorfleetError(
        'NODE_SOURCE_INVALID',
        'generic',
        `${options.what} at ${url} answered 304 not modified to a request that was not conditional (no If-Modified-Since sent); the server or a proxy in between is broken, check the URL`,
      );
    }
    return { head: { status: 304, lastModified: header('last-modified'), contentType: undefined }, result: undefined };
  }
  if (response.status !== 200) {
    response.body.destroy();
    const message = `HTTP ${response.status}`;
    if (isRetryableStatus(response.status)) {
      throw new RetryableFailure(message, parseRetryAfter(header('retry-after'), now()));
    }
    throw new TorfleetError(
      'NODE_SOURCE_INVALID',
      'generic',
      `${options.what} at ${url} answered ${message}; check the URL`,
    );
  }
  const encoding = (header('content-encoding') ?? 'identity').trim().toLowerCase();
  const decoder =
    encoding === 'gzip' || encoding === 'x-gzip'
      ? createGunzip()
      : encoding === 'deflate'
        ? createInflate()
        : undefined;
  if (!decoder && encoding !== 'identity') {
    response.body.destroy();
    throw new TorfleetError(
      'NODE_SOURCE_INVALID',
      'generic',
      `${options.what} at ${url}: unsupported content-encoding ${encoding}`,
    );
  }
  const stream = decoder ? pipeline(response.body, decoder, () => undefined) : response.body;
  const head: FetchHead = { status: 200, lastModified: header('last-modified'), contentType: header('content-type') };
  try {
    const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
    const tooLarge = (): TorfleetError =>
      new TorfleetError(
        'NODE_SOURCE_INVALID',
        'generic',
        `${options.what} at ${url}: the body is larger than ${maxBytes} bytes once decompressed, far more than such a document needs; check the URL`,
      );
    return { head, result: await consume(head, limited(stream, maxBytes, tooLarge)) };
  } catch (error) {
    if (error instanceof BodyReadError)
      throw new RetryableFailure(`reading the body failed: ${error.message}`, undefined);
    throw error;
  } finally {
    // A consumer that stopped early leaves the stream open: close it, and swallow the abort it reports.
    if (!stream.destroyed) {
      stream.on('error', () => undefined);
      stream.destroy();
    }
    response.body.destroy();
  }
}

function isConditional(headers: Readonly<Record<string, string>>): boolean {
  return Object.keys(headers).some((name) => /^if-(modified-since|none-match)$/i.test(name));
}

/** The body's chunks, at most `maxBytes` in all; errors of the stream become BodyReadErrors. */
async function* limited(
  stream: AsyncIterable<Buffer>,
  maxBytes: number,
  tooLarge: () => Error,
): AsyncGenerator<Buffer> {
  let size = 0;
  const iterator = stream[Symbol.asyncIterator]();
  for (;;) {
    let next: IteratorResult<Buffer>;
    try {
      next = await iterator.next();
    } catch (error) {
      throw new BodyReadError(errorMessage(error));
    }
    if (next.done) return;
    size += next.value.length;
    if (size > maxBytes) throw tooLarge();
    yield next.value;
  }
}
