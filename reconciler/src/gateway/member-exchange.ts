import {
  Agent,
  request as httpRequest,
  type ClientRequest,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { Socket } from 'node:net';
import { endToEndHeaders } from './hop-headers.js';
import { leanExchange, leanFits } from './member-lean.js';
import type { MemberConnection } from './member-slot.js';

export interface MemberRequest {
  readonly method: string;
  /** Origin form, or absolute form for an http upstream. */
  readonly path: string;
  /** End-to-end headers, Host and the upstream's Proxy-Authorization already in. */
  readonly headers: readonly string[];
  /** Ask the member to keep the connection (else `Connection: close`). */
  readonly keepAlive: boolean;
  /** The client's request body is empty: the request is ended at once, so it can be sent again. */
  readonly bodiless: boolean;
  /** `Connection: close` on the answer to the client (the gateway drains). */
  readonly closeClient: boolean;
}

export interface ExchangeEnd {
  /** The member's response head arrived (and went to the client). */
  readonly responded: boolean;
  /** The exchange failed (member, target or client); the member's socket is then destroyed. */
  readonly error: string | null;
  /** The whole response arrived, the member keeps the connection, and the socket is open and idle. */
  readonly reusable: boolean;
}

/**
 * Node's client keeps a socket after a response only with an agent (with none it forces `Connection: close`).
 * This one pools nothing and dials nothing: each request gets exactly the socket its own `createConnection`
 * gives (the member connection); whether that socket is used again is decided outside (member-slot.ts).
 */
class HandOverAgent extends Agent {
  constructor() {
    super({ keepAlive: true });
  }

  addRequest(req: ClientRequest, options: { readonly createConnection?: () => Socket }): void {
    const socket = options.createConnection?.();
    if (socket === undefined) req.destroy(new Error('HandOverAgent: no createConnection'));
    else req.onSocket(socket);
  }
}

const HAND_OVER = new HandOverAgent();

/**
 * One request over `connection`'s socket with node's HTTP client through `HAND_OVER` (exactly this socket:
 * nothing pooled by node, nothing shared). `Connection: keep-alive` makes node keep the socket after
 * a complete response unless the member answers `Connection: close` or HTTP/1.0 without keep-alive (node then
 * closes it); it says so with the socket's `free`. Resolves once node is done with the socket; never rejects.
 * A client that goes away destroys the socket. The response streams to `res`; a failure before the response head
 * leaves `res` untouched (the caller answers, or retries on a fresh connection).
 */
export function exchangeOver(
  connection: MemberConnection,
  req: IncomingMessage,
  res: ServerResponse,
  request: MemberRequest,
): Promise<ExchangeEnd> {
  const { socket } = connection;
  if (leanFits(request)) return leanExchange(socket, res, request);
  let responded = false;
  let error: string | null = null;
  let freed = false;
  const onFree = (): void => {
    freed = true;
  };
  socket.once('free', onFree);
  const outgoing = httpRequest({
    agent: HAND_OVER,
    createConnection: () => socket,
    setHost: false,
    method: request.method,
    path: request.path,
    headers: [...request.headers, 'Connection', request.keepAlive ? 'keep-alive' : 'close'],
  });
  // The dialer hands a new socket over paused (bytes after a handshake were put back): node's client has its
  // 'data' listener on it once 'socket' fires, so it may flow from then on.
  outgoing.once('socket', () => socket.resume());
  const clientGone = (): void => {
    if (!freed && !res.writableFinished) socket.destroy(); // gone before the whole response reached it
  };
  res.once('close', clientGone);
  if (res.destroyed) clientGone(); // it left while the member was dialed: its 'close' has fired already
  outgoing.on('response', (incoming) => {
    responded = true;
    res.writeHead(incoming.statusCode ?? 502, incoming.statusMessage, [
      ...endToEndHeaders(incoming.rawHeaders),
      ...(request.closeClient ? ['Connection', 'close'] : []),
    ]);
    incoming.pipe(res);
    incoming.on('error', () => res.destroy());
    incoming.on('close', () => {
      if (!incoming.complete) res.destroy(); // the member or target broke off mid-body: the client must see it
    });
  });
  outgoing.on('error', (failure) => {
    error = failure.message;
    socket.destroy();
    if (responded) res.destroy();
  });
  if (request.bodiless) outgoing.end();
  else req.pipe(outgoing);
  return new Promise((resolve) => {
    // node emits the request's 'close' and then, at once, the socket's 'free' (a kept connection): both have
    // happened when this promise's reaction runs.
    outgoing.once('close', () => {
      resolve(undefined);
    });
  }).then(() => {
    socket.off('free', onFree);
    res.off('close', clientGone);
    return { responded, error, reusable: freed && error === null && !socket.destroyed };
  });
}
