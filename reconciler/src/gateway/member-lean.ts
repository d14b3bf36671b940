import type { ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import { endToEndHeaders } from './hop-headers.js';
import type { ExchangeEnd, MemberRequest } from './member-exchange.js';

/** Node's llhttp binding, as node's own HTTP client uses it (`_http_common`). */
interface Llhttp {
  initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void;
  execute(data: Buffer): number | Error;
  finish(): number | Error | undefined;
  remove(): void;
  free(): void;
  close(): void;
  [callback: number]: unknown;
}
interface LlhttpClass {
  new (): Llhttp;
  readonly RESPONSE: number;
  readonly kOnHeaders: number;
  readonly kOnHeadersComplete: number;
  readonly kOnBody: number;
  readonly kOnMessageComplete: number;
  readonly kLenientNone: number;
}
const require = createRequire(import.meta.url);
const { HTTPParser } = require('_http_common') as { HTTPParser: LlhttpClass };
/**
 * `_http_common` is node's own (undocumented) module: should a node release change its parser's shape, every
 * request goes through node's public client instead of failing.
 */
const PARSER_USABLE =
  typeof HTTPParser === 'function' &&
  [HTTPParser.RESPONSE, HTTPParser.kOnHeaders, HTTPParser.kOnBody, HTTPParser.kLenientNone].every(
    (value) => typeof value === 'number',
  );

/** Node's client keeps at most this many raw header entries of a response (`maxHeadersCount` 1,000 pairs). */
const MAX_HEADER_ENTRIES = 2000;
/** Node's checks on what ClientRequest writes (INVALID_PATH_REGEX, checkIsHttpToken, checkInvalidHeaderChar). */
const INVALID_PATH = /[^\u0021-\u00ff]/;
const TOKEN = /^[\^_`a-zA-Z\-0-9!#$%&'*+.|~]+$/;
const INVALID_VALUE = /[^\t\u0020-\u007e\u0080-\u00ff]/;
/** Methods node's client sends without any framing header when the request has no body. */
const UNFRAMED = new Set(['GET', 'HEAD', 'DELETE', 'OPTIONS', 'TRACE']);

/**
 * Whether `request` can go the lean way: no body, a method node sends without framing headers, and a path and
 * headers node's ClientRequest would accept as they are (anything else goes through node's client, as before).
 */
export function leanFits(request: MemberRequest): boolean {
  if (!PARSER_USABLE || !request.bodiless || !UNFRAMED.has(request.method) || INVALID_PATH.test(request.path)) {
    return false;
  }
  const { headers } = request;
  for (let i = 0; i < headers.length; i += 2) {
    if (!TOKEN.test(headers[i] ?? '') || INVALID_VALUE.test(headers[i + 1] ?? '')) return false;
  }
  return true;
}

/** The request head exactly as node's ClientRequest writes it for these requests (latin1). */
function requestHead(request: MemberRequest): string {
  let head = `${request.method} ${request.path} HTTP/1.1\r\n`;
  const { headers } = request;
  for (let i = 0; i + 1 < headers.length; i += 2) head += `${headers[i] ?? ''}: ${headers[i + 1] ?? ''}\r\n`;
  return `${head}Connection: ${request.keepAlive ? 'keep-alive' : 'close'}\r\n\r\n`;
}

/**
 * The length of a body framed by one plain Content-Length and nothing else (no Transfer-Encoding, which would
 * win), when the status carries a body; null when the parser must frame it (chunked, read to the close, none).
 */
function contentLength(raw: readonly string[], statusCode: number, method: string): number | null {
  if (method === 'HEAD' || statusCode < 200 || statusCode === 204 || statusCode === 304) return null;
  let length: number | null = null;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] ?? '').toLowerCase();
    if (name === 'transfer-encoding') return null;
    if (name !== 'content-length') continue;
    const value = raw[i + 1] ?? '';
    if (length !== null || !/^\d{1,15}$/.test(value)) return null; // two of them, or odd: the parser decides
    length = Number(value);
  }
  return length === 0 ? null : length;
}

/** The message node's client gives a parse failure (its prepareError). */
function parseError(error: Error & { readonly reason?: unknown }): string {
  return typeof error.reason === 'string' ? `Parse Error: ${error.reason}` : error.message;
}

/**
 * A body that arrives in reads under NAP_BELOW bytes (a full read is 64 KiB; microsocks copies 1 KiB at a time,
 * and the lean path kept up with it: 1 KiB reads) is read again only after NAP_MS: one read then takes what
 * gathered meanwhile, instead of one read, parse, copy and client write per KiB. At most 1 ms added per read of
 * a body that trickles; a response whose end is in the read waits for nothing.
 */
const NAP_BELOW = 65536;
const NAP_MS = 1;

const idleParsers: Llhttp[] = [];
const ignore = (): number => 0;

/** As node's freeParser: callbacks dropped (no closure kept alive), then pooled, or closed once its stack unwound. */
function release(parser: Llhttp): void {
  parser[HTTPParser.kOnHeaders] = ignore;
  parser[HTTPParser.kOnHeadersComplete] = ignore;
  parser[HTTPParser.kOnBody] = ignore;
  parser[HTTPParser.kOnMessageComplete] = ignore;
  parser.remove();
  if (idleParsers.length < 64) {
    parser.free();
    idleParsers.push(parser);
  } else {
    setImmediate(() => {
      parser.close();
    });
  }
}

/**
 * One bodiless request over `socket` without node's ClientRequest/IncomingMessage: the head written in one write,
 * the response parsed by node's llhttp binding (the parser node's client uses: chunked, Content-Length, read to
 * close, HEAD/1xx/204/304, keep-alive from the version and `Connection`, a 16 KiB header limit), its head and
 * body written straight to `res`. Same contract as the node-client exchange: a failure before the head leaves
 * `res` alone; a member that breaks off mid-body destroys `res`; a client that leaves destroys the socket;
 * `reusable` only after a complete keep-alive response on a socket that is still open.
 */
export function leanExchange(socket: Socket, res: ServerResponse, request: MemberRequest): Promise<ExchangeEnd> {
  return new Promise((resolve) => {
    const parser = idleParsers.pop() ?? new HTTPParser();
    parser.initialize(HTTPParser.RESPONSE, {}, 0, HTTPParser.kLenientNone);
    let headerLines: string[] = [];
    let responded = false;
    let complete = false;
    let keepAlive = false;
    let error: string | null = null;
    let paused = false;
    let settled = false;
    let inExecute = false;
    let nap: NodeJS.Timeout | null = null;
    /**
     * Body bytes still to come of a Content-Length response: the parser stops after the head (as for an upgrade)
     * and the body goes from the socket's reads to `res` as they are, not through the parser's copy per piece.
     */
    let rawLeft = 0;

    const drained = (): void => {
      paused = false;
      if (nap === null) socket.resume();
    };
    const wake = (): void => {
      nap = null;
      if (!paused) socket.resume();
    };
    const done = (): void => {
      if (settled) return;
      settled = true;
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onClose);
      socket.off('error', onError);
      res.off('close', clientGone);
      res.off('drain', drained);
      if (nap !== null) clearTimeout(nap);
      if (paused || nap !== null) socket.resume(); // flowing again, so an idle member that talks is seen (member-slot.ts)
      release(parser);
      const reusable = complete && keepAlive && request.keepAlive && error === null && !socket.destroyed;
      if (!reusable && error === null && !complete) error = 'aborted';
      resolve({ responded, error, reusable });
    };
    const fail = (message: string): void => {
      if (error === null && !complete) error = message;
      socket.destroy();
      if (responded && !complete) res.destroy(); // broke off mid-body: the client must see it
    };

    const writeBody = (chunk: Buffer): void => {
      if (!res.write(chunk) && !paused) {
        paused = true;
        socket.pause();
        res.once('drain', drained);
      }
    };
    parser[HTTPParser.kOnHeaders] = (headers: string[]): void => {
      if (headerLines.length < MAX_HEADER_ENTRIES) headerLines.push(...headers);
    };
    parser[HTTPParser.kOnHeadersComplete] = (
      _major: number,
      _minor: number,
      headers: string[] | undefined,
      _method: unknown,
      _url: unknown,
      statusCode: number,
      statusMessage: string,
      upgrade: boolean,
      shouldKeepAlive: boolean,
    ): number => {
      const raw = headers ?? headerLines;
      headerLines = [];
      if (responded) {
        // a second response to one request: node's client destroys the socket too
        socket.destroy();
        return 1;
      }
      if (upgrade || statusCode === 101) {
        // none was asked for; llhttp reads nothing after a 101, so waiting on would wait for the member to close
        fail('the member answered with a protocol upgrade');
        return 1;
      }
      if (statusCode >= 100 && statusCode < 200) return 1; // informational: node's client swallows it too
      keepAlive = shouldKeepAlive;
      try {
        res.writeHead(statusCode, statusMessage, [
          ...endToEndHeaders(raw.length > MAX_HEADER_ENTRIES ? raw.slice(0, MAX_HEADER_ENTRIES) : raw),
          ...(request.closeClient ? ['Connection', 'close'] : []),
        ]);
      } catch (failure) {
        fail(failure instanceof Error ? failure.message : String(failure));
        return 1;
      }
      responded = true;
      if (request.method === 'HEAD') return 1;
      const length = contentLength(raw, statusCode, request.method);
      if (length === null) return 0;
      rawLeft = length;
      return 2; // no body for the parser: execute() returns where the head ended
    };
    /** A piece of the raw body; anything past its end is garbage on a connection of no further use. */
    const relayRaw = (data: Buffer): void => {
      const piece = data.length > rawLeft ? data.subarray(0, rawLeft) : data;
      rawLeft -= piece.length;
      writeBody(piece);
      if (rawLeft === 0) {
        complete = true;
        res.end();
        if (data.length > piece.length) socket.destroy();
      }
    };
    parser[HTTPParser.kOnBody] = writeBody;
    parser[HTTPParser.kOnMessageComplete] = (): void => {
      // after a 1xx, a second message, or a head whose body is relayed raw (the parser ends it as an upgrade)
      if (!responded || complete || rawLeft > 0) return;
      complete = true;
      res.end();
    };

    const settleIfDone = (): void => {
      if (complete || socket.destroyed) done();
    };
    function onData(data: Buffer): void {
      if (rawLeft > 0) {
        relayRaw(data);
        afterRead(data);
        return;
      }
      inExecute = true;
      const ret = parser.execute(data);
      inExecute = false;
      if (typeof ret === 'number' && rawLeft > 0 && ret < data.length) relayRaw(data.subarray(ret));
      if (ret instanceof Error) {
        if (complete)
          socket.destroy(); // garbage after a whole response: the connection is of no further use
        else fail(parseError(ret));
      }
      afterRead(data);
    }
    function afterRead(data: Buffer): void {
      settleIfDone();
      if (!settled && responded && !paused && nap === null && data.length < NAP_BELOW) {
        socket.pause(); // a body trickling in small reads: let it gather in the kernel for one timer tick
        nap = setTimeout(wake, NAP_MS);
      }
    }
    function onEnd(): void {
      if (rawLeft === 0) parser.finish(); // a body read to the close ends here; anything else short is what node's client calls it
      if (!complete) fail(responded ? 'aborted' : 'socket hang up');
      settleIfDone();
    }
    function onError(failure: Error): void {
      fail(failure.message);
    }
    function onClose(): void {
      if (!complete) fail(responded ? 'aborted' : 'socket hang up');
      if (!inExecute) done();
    }
    function clientGone(): void {
      if (!complete) {
        fail('the client went away');
        if (!inExecute) done();
      }
    }

    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('close', onClose);
    socket.on('error', onError);
    res.once('close', clientGone);
    if (res.destroyed) {
      // the client left before this began (while the member was dialed): its 'close' will not come again
      fail('the client went away');
      done();
      return;
    }
    if (socket.destroyed) {
      fail('socket hang up');
      done();
      return;
    }
    socket.write(requestHead(request), 'latin1');
    socket.resume(); // a dialed socket comes paused (bytes after the handshake were put back)
  });
}
