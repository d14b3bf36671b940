/** The errors the client raises; the same classes and meanings as the Python client's (clients/python). */

/** No proxy to use: the service said `fail`, or nothing (service, cache, embedded fallback) has one. */
export class NoProxyError extends Error {
  override name = 'NoProxyError';
  constructor(
    message: string,
    readonly region: string | null = null,
    readonly fallbackPolicy: string | null = null,
  ) {
    super(message);
  }
}

/** No endpoint answered in time and the embedded fallback has nothing for the region. */
export class ServiceUnavailableError extends NoProxyError {
  override name = 'ServiceUnavailableError';
}

/** The service refused the call (a 4xx other than 408 and 429: a bad field, a wrong token...). Never retried. */
export class BrokerError extends Error {
  override name = 'BrokerError';
  constructor(
    readonly status: number,
    readonly code: string | null,
    readonly detail: string,
    readonly field: string | null,
    readonly requestId: string | null,
  ) {
    super(
      `broker answered ${status} ${String(code)}: ${detail} (field ${String(field)}, request id ${String(requestId)})`,
    );
  }
}

/** One exchange with one endpoint failed: refused, timed out, TLS, garbage, too large. */
export class TransportError extends Error {
  override name = 'TransportError';
}

/**
 * A new error like `error`: a cached answer raised again and again gets a stack of its own call each time, and a
 * caller that decorates the error it caught never changes the one the cache holds.
 */
export function copyError(error: Error): Error {
  if (error instanceof ServiceUnavailableError)
    return new ServiceUnavailableError(error.message, error.region, error.fallbackPolicy);
  if (error instanceof NoProxyError) return new NoProxyError(error.message, error.region, error.fallbackPolicy);
  if (error instanceof BrokerError)
    return new BrokerError(error.status, error.code, error.detail, error.field, error.requestId);
  return error;
}
