import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { PROXY_AUTHENTICATE } from './proxy-auth.js';

/** A short text answer from the gateway itself (never cached; `Connection: close` while draining). */
export function answerText(
  res: ServerResponse,
  status: number,
  text: string,
  options: { readonly draining?: boolean; readonly headers?: Record<string, string> } = {},
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = Buffer.from(text.endsWith('\n') ? text : `${text}\n`);
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': body.length,
    'Cache-Control': 'no-store',
    ...(options.draining ? { Connection: 'close' } : {}),
    ...options.headers,
  });
  res.end(body);
}

export function answerProxyAuth(res: ServerResponse, body: string, draining: boolean): void {
  answerText(res, 407, body, { draining, headers: { 'Proxy-Authenticate': PROXY_AUTHENTICATE } });
}

/** A raw HTTP/1.1 answer on a socket node's HTTP server no longer owns (after a CONNECT head), then the close. */
export function answerRaw(socket: Socket, status: string, text: string, headers: readonly string[] = []): void {
  const body = Buffer.from(text.endsWith('\n') ? text : `${text}\n`);
  const head = [`HTTP/1.1 ${status}`, 'Content-Type: text/plain; charset=utf-8', `Content-Length: ${body.length}`];
  socket.end(Buffer.concat([Buffer.from([...head, ...headers, 'Connection: close', '', ''].join('\r\n')), body]));
}
