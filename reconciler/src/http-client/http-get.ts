import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface HttpGetOptions {
  readonly headers?: Readonly<Record<string, string>>;
  /** Aborts the request and its body: a deadline for the whole exchange. */
  readonly signal: AbortSignal;
  /** No byte from the server for this long fails the exchange. */
  readonly idleTimeoutMs: number;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** The raw (still encoded) body; reading it is the caller's job, destroying it ends the exchange. */
  readonly body: IncomingMessage;
}

/** Largest response head accepted (status line and headers): a server whose headers never end fails here. */
export const MAX_HEADER_BYTES = 16 * 1024;

/**
 * One GET over `node:http`/`node:https`, on a fresh connection that closes after the answer (no pool: every
 * exchange stands alone, a body that was not read to the end never leaves a half-read socket behind).
 *
 * Why not undici: undici 7's HTTP/1 client asserts `!this.paused` when the server closes the connection while a
 * slow reader holds the body back (nodejs/undici#5360, fixed only in undici 8, which needs Node 22.19+), and
 * that assertion is thrown from a socket event handler: nothing can catch it and the process dies. Every
 * HTTP/1.0 or `Connection: close` server triggers it (static mirrors, proxies, tor's DirPort). Node's own
 * client applies backpressure by pausing the socket, so the end of the connection is only seen once the
 * reader has caught up.
 */
export function httpGet(url: string, options: HttpGetOptions): Promise<HttpResponse> {
  const target = new URL(url);
  const request = target.protocol === 'https:' ? httpsRequest : target.protocol === 'http:' ? httpRequest : undefined;
  if (!request) return Promise.reject(new Error(`unsupported URL scheme ${target.protocol} (http: or https:)`));
  return new Promise((resolve, reject) => {
    const outgoing = request(target, {
      method: 'GET',
      headers: { ...options.headers, connection: 'close' },
      agent: false,
      signal: options.signal,
      timeout: options.idleTimeoutMs,
      maxHeaderSize: MAX_HEADER_BYTES,
    });
    outgoing.on('timeout', () => {
      outgoing.destroy(new Error(`no data from the server for ${options.idleTimeoutMs} ms`));
    });
    outgoing.once('error', reject);
    outgoing.once('response', (response) => {
      // From now on errors reach the body (the reader); the request's own are already reported there.
      outgoing.off('error', reject);
      outgoing.on('error', () => undefined);
      resolve({ status: response.statusCode ?? 0, headers: response.headers, body: response });
    });
    outgoing.end();
  });
}
