/** The feedback events of `POST /api/v1/proxy/feedback`. */
export type FeedbackEvent = 'connect' | 'result' | 'timeout' | 'release';

/** The fields of one feedback item that decide its class (`error_details` is free text and decides nothing). */
export interface FeedbackOutcome {
  readonly event: FeedbackEvent;
  readonly success: boolean | null;
  readonly statusCode: number | null;
}

/**
 * What one report says, before the exchange rule: `success`, `proxy_fault` (no answer came back through the
 * proxy: refused, reset, timeout, SOCKS error), `target_block` (the target refused this proxy: 401/403/429),
 * `target_failure` (the target answered, with an error: the proxy carried it), `none` (nothing to judge).
 */
export type OutcomeClass = 'success' | 'proxy_fault' | 'target_block' | 'target_failure' | 'none';

/** HTTP statuses by which a target refuses a client (and so this proxy's exit) rather than failing itself. */
export const BLOCK_STATUSES: ReadonlySet<number> = new Set([401, 403, 429]);

/**
 * The mapping table (README, Broker: health rules), first matching row wins. An HTTP status means an answer came back, so the proxy
 * did its job; a failure without one is the proxy's. A missing `success` is read from the status (< 400: true,
 * else false); without a status it stays missing.
 *
 * | event                    | success | status_code      | class          |
 * |--------------------------|---------|------------------|----------------|
 * | any                      | any     | 401, 403, 429    | target_block   |
 * | timeout                  | any     | any other / none | proxy_fault    |
 * | connect, result, release | missing | none             | none           |
 * | release                  | true    | any other / none | none           |
 * | connect, result          | true    | any other / none | success        |
 * | connect, result, release | false   | none             | proxy_fault    |
 * | connect, result, release | false   | any other        | target_failure |
 */
export function outcomeClass(outcome: FeedbackOutcome): OutcomeClass {
  const { event, statusCode } = outcome;
  if (statusCode !== null && BLOCK_STATUSES.has(statusCode)) return 'target_block';
  if (event === 'timeout') return 'proxy_fault';
  const success = outcome.success ?? (statusCode === null ? null : statusCode < 400);
  if (success === null) return 'none';
  if (event === 'release' && success) return 'none';
  if (success) return 'success';
  return statusCode === null ? 'proxy_fault' : 'target_failure';
}
