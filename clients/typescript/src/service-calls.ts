import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import { backoffDelay, ROUND_BASE_MS, ROUND_MAX_MS, sleep } from './backoff.js';
import type { Endpoint } from './endpoints.js';
import { BrokerError, ServiceUnavailableError, TransportError } from './errors.js';
import { isProxyAnswer } from './lease.js';
import type { Counters } from './stats.js';
import { exchange, PATHS, type Answer } from './transport.js';

const gzipAsync = promisify(gzipCallback);

export interface ServiceCallsContext {
  readonly endpoints: () => readonly Endpoint[];
  readonly token: () => string;
  readonly nextRequestId: () => string;
  readonly maxAnswerBytes: number;
  readonly counters: Counters;
}

/**
 * One call to "the service": each usable endpoint in order until one answers, rounds apart by a jittered
 * exponential backoff (50 ms doubling to 400 ms), until the deadline (performance.now() ms).
 * - 200/202 with a usable body: returned, the endpoint's breaker closed.
 * - 429/503: the endpoint held for its Retry-After (1-60 s), not a failure.
 * - any other 4xx but 408: BrokerError at once (the caller's mistake: a wrong token, a bad field; no fallback).
 * - anything else (refused, timed out, TLS, 5xx, 408, other statuses, garbage, not JSON, too large): a failure of
 *   the endpoint (its breaker), then the next endpoint.
 * ServiceUnavailableError when no endpoint answered in time.
 */
export async function callService(
  context: ServiceCallsContext,
  method: string,
  path: string,
  body: Buffer | null,
  deadline: number,
  requestId: string | null = null,
  gzip = false,
): Promise<Answer> {
  const errors: string[] = [];
  const headers: Record<string, string> = body === null ? {} : { 'content-type': 'application/json' };
  let payload = body;
  if (gzip && payload !== null) {
    payload = await gzipAsync(payload, { level: 6 });
    headers['content-encoding'] = 'gzip';
  }
  const failed = (endpoint: Endpoint, error: string): void => {
    endpoint.breaker.failure(performance.now(), error);
    context.counters.serviceFailures += 1;
    errors.push(`${endpoint.url}: ${error}`);
  };
  for (let attempt = 1; ; attempt++) {
    let tried = false;
    const endpoints = context.endpoints();
    for (const [index, endpoint] of endpoints.entries()) {
      const now = performance.now();
      if (now >= deadline) break;
      if (!endpoint.breaker.acquire(now)) continue;
      tried = true;
      // The time left is shared by this endpoint and the usable ones after it, so a hung first endpoint leaves
      // the next one time to answer within the same call.
      const after = endpoints.slice(index + 1).filter((other) => other.breaker.usable(now)).length;
      let answer: Answer;
      try {
        answer = await exchange(endpoint, {
          method,
          path,
          payload,
          headers,
          token: context.token(),
          deadline: now + (deadline - now) / (1 + after),
          requestId: requestId ?? context.nextRequestId(),
          maxAnswerBytes: context.maxAnswerBytes,
        });
      } catch (error) {
        // A TransportError, or anything unforeseen: never leave a probe held.
        failed(endpoint, error instanceof TransportError ? error.message : String(error));
        continue;
      }
      const { status } = answer;
      if (status === 200 || status === 202) {
        if (path === PATHS.request && !isProxyAnswer(answer.json)) {
          failed(endpoint, 'answer is not a proxy answer');
          continue;
        }
        if (!answer.isJson) {
          failed(endpoint, 'answer is not JSON');
          continue;
        }
        endpoint.breaker.success();
        return answer;
      }
      if (status === 429 || status === 503) {
        endpoint.breaker.hold(performance.now(), retryAfterMs(answer));
        errors.push(`${endpoint.url}: ${String(status)}`);
        continue;
      }
      if (status >= 400 && status < 500 && status !== 408) {
        endpoint.breaker.releaseProbe();
        throw brokerError(answer);
      }
      failed(endpoint, `status ${String(status)}`);
    }
    const delay = backoffDelay(attempt, ROUND_BASE_MS, ROUND_MAX_MS);
    const now = performance.now();
    if (
      !tried ||
      now + delay >= deadline ||
      !context.endpoints().some((endpoint) => endpoint.breaker.usable(now + delay))
    ) {
      throw new ServiceUnavailableError(
        `no broker endpoint answered: ${errors.slice(-4).join('; ') || 'all circuits open'}`,
      );
    }
    await sleep(delay);
  }
}

function retryAfterMs(answer: Answer): number {
  const seconds = Number(answer.headers['retry-after'] ?? '1');
  return Number.isFinite(seconds) ? Math.min(60, Math.max(1, seconds)) * 1000 : 1000;
}

function brokerError(answer: Answer): BrokerError {
  const json = answer.json as { error?: unknown } | null;
  const error =
    json !== null && typeof json === 'object' && typeof json.error === 'object' && json.error !== null
      ? (json.error as Record<string, unknown>)
      : {};
  const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);
  return new BrokerError(
    answer.status,
    text(error.code),
    text(error.message) ?? '',
    text(error.field),
    answer.requestId || null,
  );
}
