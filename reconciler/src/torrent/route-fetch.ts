import { request as httpRequest, type IncomingMessage } from 'node:http';
import { isIP, type Socket } from 'node:net';
import { connect as tlsConnect, rootCertificates, type TLSSocket } from 'node:tls';
import { Cancel } from '../gateway/cancel.js';
import { DialError, type Dialer } from '../gateway/dial-types.js';
import type { RouteTable } from '../gateway/route-types.js';
import { mimeAllowed } from './torrent-settings.js';

/** Why a fetch failed, and whether trying again later may help (a retry is worth it only when `transient`). */
export class FetchError extends Error {
  constructor(
    message: string,
    readonly transient: boolean,
  ) {
    super(message);
    this.name = 'FetchError';
  }
}

export interface RouteFetchOptions {
  readonly dialer: Dialer;
  /** The routes now (they follow the fleet); null before the first fleet. */
  readonly routes: () => RouteTable | null;
  /** From the dial's start until the response's headers: the way out, the TLS handshake, the origin's answer. */
  readonly connectTimeoutMs: number;
  /** The longest silence while the body arrives. */
  readonly readTimeoutMs: number;
  readonly maxRedirects: number;
  readonly mimeAllowlist: readonly string[];
  /** A Content-Length above this fails the fetch before a byte of the body is read. */
  readonly maxBytes: number;
  /** Certificates trusted besides Node's own (tests' private CA; users set NODE_EXTRA_CA_CERTS). */
  readonly ca?: readonly Buffer[];
}

export interface FetchRequest {
  readonly url: string;
  readonly method: 'GET' | 'POST';
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | null;
  readonly route: string;
  /** Keeps one job's hops (redirects, retries) on one member of the route while its session lives. */
  readonly session: string;
}

export interface FetchedResponse {
  readonly url: string;
  readonly contentType: string;
  readonly declaredSize: number | null;
  /** The response body as it arrives; destroyed with a FetchError on a read timeout or an abort. */
  readonly body: IncomingMessage;
  /** The route member (proxy or upstream) that carried the fetch. */
  readonly member: string;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * Fetches a URL through a gateway route, never directly: every connection (the first and each redirect's) is a
 * tunnel the gateway's dialer builds through a member of that route, with the target's host name sent to the
 * proxy unresolved. TLS is verified (host name and chain). Redirects are followed `maxRedirects` times, to
 * http(s) only and through the same route. A status of 400 or above, a content type outside the allowlist, or a
 * declared size over the limit fail the fetch before its body is read.
 */
export async function fetchThroughRoute(
  options: RouteFetchOptions,
  job: FetchRequest,
  signal: AbortSignal,
): Promise<FetchedResponse> {
  const table = options.routes();
  const route = table?.lookup(job.route);
  if (!table || !route) {
    const names = table?.names().slice(0, 20).join(', ') ?? 'none yet';
    throw new FetchError(`route ${JSON.stringify(job.route)} is not a gateway route (routes: ${names})`, false);
  }
  let url = new URL(job.url);
  let { method, body } = job;
  for (let redirects = 0; ; redirects += 1) {
    const response = await exchange(options, table, { ...job, method, body }, url, signal);
    const location = response.headers.location;
    if (REDIRECTS.has(response.statusCode ?? 0) && location !== undefined) {
      response.destroy();
      if (redirects >= options.maxRedirects) {
        throw new FetchError(`more than ${options.maxRedirects} redirects (the last to ${location})`, false);
      }
      const next = resolveRedirect(url, location);
      if (
        response.statusCode === 303 ||
        (method === 'POST' && response.statusCode !== 307 && response.statusCode !== 308)
      ) {
        method = 'GET';
        body = null;
      }
      url = next;
      continue;
    }
    return accepted(options, url, response);
  }
}

function resolveRedirect(from: URL, location: string): URL {
  let next: URL;
  try {
    next = new URL(location, from);
  } catch {
    throw new FetchError(
      `the origin redirected to ${JSON.stringify(location.slice(0, 200))}, which is not a URL`,
      false,
    );
  }
  if (next.protocol !== 'http:' && next.protocol !== 'https:') {
    throw new FetchError(`the origin redirected to a ${next.protocol} URL: only http and https are fetched`, false);
  }
  return next;
}

function accepted(
  options: RouteFetchOptions,
  url: URL,
  response: IncomingMessage & { member?: string },
): FetchedResponse {
  const status = response.statusCode ?? 0;
  if (status < 200 || status > 299) {
    response.destroy();
    const transient = status >= 500 || status === 429 || status === 408;
    throw new FetchError(`the origin answered ${status} ${response.statusMessage ?? ''}`.trim(), transient);
  }
  const contentType = response.headers['content-type'] ?? 'application/octet-stream';
  if (!mimeAllowed(contentType, options.mimeAllowlist)) {
    response.destroy();
    throw new FetchError(
      `the content type ${JSON.stringify(contentType.slice(0, 100))} is not allowed (TORFLEET_TORRENT_MIME: ${options.mimeAllowlist.join(',')})`,
      false,
    );
  }
  const length = response.headers['content-length'];
  const declaredSize = length !== undefined && /^\d+$/.test(length) ? Number(length) : null;
  if (declaredSize !== null && declaredSize > options.maxBytes) {
    response.destroy();
    throw new FetchError(
      `the content is ${declaredSize} bytes, over the limit of ${options.maxBytes} (TORFLEET_TORRENT_MAX_SIZE)`,
      false,
    );
  }
  response.setTimeout(options.readTimeoutMs, () => {
    response.destroy(new FetchError(`no data for ${options.readTimeoutMs} ms while reading the body`, true));
  });
  return { url: url.href, contentType, declaredSize, body: response, member: response.member ?? '' };
}

/** One request and its response's headers, over a fresh tunnel through the route. */
async function exchange(
  options: RouteFetchOptions,
  table: RouteTable,
  job: FetchRequest,
  url: URL,
  signal: AbortSignal,
): Promise<IncomingMessage & { member?: string }> {
  const route = table.lookup(job.route);
  if (!route) throw new FetchError(`route ${JSON.stringify(job.route)} left the fleet`, false);
  const cancel = new Cancel();
  const onAbort = (): void => {
    cancel.cancel(signal.reason);
  };
  signal.addEventListener('abort', onAbort, { once: true });
  const deadline = setTimeout(() => {
    cancel.cancel(
      new FetchError(`no answer within ${options.connectTimeoutMs} ms (TORFLEET_TORRENT_CONNECT_TIMEOUT)`, true),
    );
  }, options.connectTimeoutMs);
  const secure = url.protocol === 'https:';
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const port = url.port === '' ? (secure ? 443 : 80) : Number(url.port);
  let socket: Socket | undefined;
  try {
    if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new FetchError('cancelled', false);
    const dialed = await dialOrFail(options.dialer, {
      route,
      session: job.session,
      target: { host, port },
      purpose: 'tunnel',
      corporate: table.corporate,
      cancel,
    });
    socket = dialed.socket;
    const stream = secure ? await tlsOver(dialed.socket, host, options.ca, cancel) : dialed.socket;
    const response = await send(stream, url, job, cancel);
    return Object.assign(response, { member: dialed.member.id });
  } catch (error) {
    socket?.destroy();
    if (cancel.cancelled && cancel.reason instanceof Error) throw cancel.reason;
    throw error;
  } finally {
    clearTimeout(deadline);
    signal.removeEventListener('abort', onAbort);
  }
}

async function dialOrFail(
  dialer: Dialer,
  request: Parameters<Dialer['dial']>[0],
): Promise<{ socket: Socket; member: { id: string } }> {
  try {
    return await dialer.dial(request);
  } catch (error) {
    if (error instanceof DialError) {
      if (error.reason === 'aborted') throw error;
      // No member, refusals, timeouts, an unreachable target: the route may be back later (a retry decides).
      throw new FetchError(`the route could not reach the origin: ${error.message}`, error.reason !== 'upstream-auth');
    }
    throw error;
  }
}

function tlsOver(socket: Socket, host: string, ca: readonly Buffer[] | undefined, cancel: Cancel): Promise<TLSSocket> {
  return new Promise<TLSSocket>((resolve, reject) => {
    const tls = tlsConnect({
      socket,
      // `host` is what the certificate is checked against (a name or an IP literal); SNI carries names only.
      host,
      ...(isIP(host) === 0 ? { servername: host } : {}),
      rejectUnauthorized: true,
      ALPNProtocols: ['http/1.1'],
      ...(ca ? { ca: [...rootCertificates, ...ca.map((pem) => pem.toString())] } : {}),
    });
    const stop = cancel.onCancel((reason) => {
      tls.destroy();
      reject(reason instanceof Error ? reason : new FetchError('cancelled', false));
    });
    tls.once('secureConnect', () => {
      stop();
      resolve(tls);
    });
    tls.once('error', (error: Error) => {
      stop();
      reject(new FetchError(`TLS with ${host} failed: ${error.message}`, false));
    });
  });
}

function send(stream: Socket, url: URL, job: FetchRequest, cancel: Cancel): Promise<IncomingMessage> {
  return new Promise<IncomingMessage>((resolve, reject) => {
    const body = job.body === null ? null : Buffer.from(job.body);
    // Over the tunnel (or TLS over it): http.request only frames the exchange on the stream it is given.
    const request = httpRequest({
      method: job.method,
      host: url.hostname,
      port: url.port,
      path: `${url.pathname}${url.search}`,
      headers: {
        'accept-encoding': 'identity',
        'user-agent': 'torfleet',
        ...job.headers,
        host: url.host,
        ...(body ? { 'content-length': String(body.length) } : {}),
        connection: 'close',
      },
      // No agent: exactly this stream (an agent, even `agent: false`'s fresh one, would dial the origin itself).
      createConnection: () => stream,
    });
    // The dialer hands its socket over paused (bytes after a handshake put back): it flows once node reads it.
    request.once('socket', () => stream.resume());
    const stop = cancel.onCancel((reason) => {
      request.destroy(reason instanceof Error ? reason : new FetchError('cancelled', false));
    });
    request.once('response', (response) => {
      stop();
      resolve(response);
    });
    request.once('error', (error: Error) => {
      stop();
      reject(error instanceof FetchError ? error : new FetchError(`the request failed: ${error.message}`, true));
    });
    request.end(body ?? undefined);
  });
}
