import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';

const CLOSE_GRACE_MS = 1000;

/** An error the HTTP parser raised before any request object existed (Node's `clientError`). */
export interface ParserError {
  readonly status: number;
  readonly code: string;
  readonly message: string;
}

/**
 * What a client did wrong, by the parser's error code; the default is a plain 400. These happen before
 * routing, so they are the client's mistake by construction (a server bug never reaches the parser).
 */
export function parserErrorOf(code: string | undefined): ParserError {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return {
        status: 431,
        code: 'headers_too_large',
        message: 'the request line and headers exceed 16 KiB; send a shorter target and fewer headers',
      };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return {
        status: 408,
        code: 'request_timeout',
        message: 'the request did not arrive in time; send the whole request at once',
      };
    case 'HPE_INVALID_METHOD':
      return {
        status: 400,
        code: 'bad_request',
        message: 'the request method is not an HTTP method; this read-only API answers GET and HEAD',
      };
    case 'HPE_INVALID_VERSION':
    case 'HPE_PAUSED_H2_UPGRADE':
      return {
        status: 400,
        code: 'bad_request',
        message: 'the HTTP version is not supported; speak HTTP/1.1 (or HTTP/1.0)',
      };
    case 'HPE_INVALID_URL':
      return {
        status: 400,
        code: 'bad_request',
        message: 'the request target is malformed; request a route such as /proxies or /proxies/NAME',
      };
    default:
      return {
        status: 400,
        code: 'bad_request',
        message: `the request is malformed HTTP/1.1 (${code ?? 'parse error'}); send a well-formed request`,
      };
  }
}

/**
 * Writes a JSON error straight onto a socket that has no response object (parser errors, CONNECT) and
 * ends it. Returns false when nothing could be written: the socket was gone, or a response had already
 * begun on it (its bytes would corrupt that response), in which case the socket is destroyed instead.
 */
export function writeRawError(
  socket: Duplex,
  status: number,
  body: { code: string; message: string; field?: string | null },
  headers: Readonly<Record<string, string>> = {},
): boolean {
  const inFlight = (socket as { _httpMessage?: { headersSent?: boolean } | null })._httpMessage;
  if (!socket.writable || inFlight?.headersSent === true) {
    socket.destroy();
    return false;
  }
  const text = `${JSON.stringify({ error: body }, null, 2)}\n`;
  const lines = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
    'content-type: application/json; charset=utf-8',
    `content-length: ${Buffer.byteLength(text)}`,
    'connection: close',
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  socket.end(`${lines.join('\r\n')}\r\n\r\n${text}`);
  // A client that neither reads nor closes must not keep the socket half-open: a short grace, then gone.
  // (Destroying at once could reset the connection before the client has read the answer.)
  setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
  return true;
}
