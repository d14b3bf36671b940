import type { IncomingHttpHeaders } from 'node:http';

/**
 * Whether the client keeps its connection after this request: HTTP/1.1 unless it says `Connection: close`,
 * HTTP/1.0 only when it says `Connection: keep-alive` (RFC 9112 §9.3). When it does not, the member connection
 * is asked to close too: nothing could reuse it.
 */
export function clientKeepsAlive(httpVersion: string, connection: string | undefined): boolean {
  const tokens = (connection ?? '').split(',').map((token) => token.trim().toLowerCase());
  if (tokens.includes('close')) return false;
  if (httpVersion === '1.1') return true;
  return httpVersion === '1.0' && tokens.includes('keep-alive');
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'DELETE', 'PUT']);

/** Whether a request has no body: no `Content-Length` above 0 and no `Transfer-Encoding` (RFC 9112 §6.3). */
export function bodiless(headers: IncomingHttpHeaders): boolean {
  if (headers['transfer-encoding'] !== undefined) return false;
  const length = headers['content-length'];
  return length === undefined || Number(length) === 0;
}

/**
 * Whether a request may be sent again on a fresh member connection after a reused one failed before any response
 * byte (the member had closed it while idle): an idempotent method (RFC 9110 §9.2.2) without a body, so nothing
 * the client sent is lost and repeating it changes nothing.
 */
export function retryable(method: string | undefined, headers: IncomingHttpHeaders): boolean {
  return IDEMPOTENT.has(method ?? '') && bodiless(headers);
}
