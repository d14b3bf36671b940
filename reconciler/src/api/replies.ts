import type { IncomingMessage, ServerResponse } from 'node:http';

/** What a route answers: a status and a JSON body, or a body already in its final text form. */
export interface Reply {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Record<string, string>;
  /** A body already in its final text form (Prometheus). */
  readonly text?: string;
}

/** Every route is read-only. */
export const ALLOW = 'GET, HEAD';

export const GITOPS =
  'proxies are changed by committing fleet/fleet.yaml to the fleet repository; this API is read-only';

/** The contract's error answer: `{"error": {"code", "message"}}`. */
export function errorReply(status: number, code: string, message: string, headers?: Record<string, string>): Reply {
  return { status, body: { error: { code, message } }, ...(headers ? { headers } : {}) };
}

/** A request that declares a body: the API reads none, so the connection is closed after the answer. */
export function carriesBody(request: IncomingMessage): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** Writes the reply: pretty-printed JSON with a trailing newline unless it carries its own text. */
export function sendReply(response: ServerResponse, reply: Reply, close: boolean): void {
  if (response.destroyed) return;
  const text = reply.text ?? `${JSON.stringify(reply.body, null, 2)}\n`;
  response.writeHead(reply.status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    ...(close ? { connection: 'close' } : {}),
    ...reply.headers,
  });
  response.end(text);
}
