import { signature } from '../torrent/hmac-auth.js';

export interface ContentAnswer {
  readonly status: number;
  readonly body: unknown;
  readonly bytes: Buffer;
  readonly headers: Headers;
}

/**
 * TESTS ONLY: calls the content service at `base`, signed with `secret` (the contract's HMAC: METHOD, the path as
 * sent, X-Timestamp, the body), or with a bearer token; `over` changes what is sent after signing (a tampered
 * body, an old timestamp).
 */
export async function contentCall(
  base: string,
  auth: { readonly secret: Buffer } | { readonly token: string } | null,
  method: string,
  path: string,
  body?: unknown,
  over: { readonly timestamp?: number; readonly sentBody?: string; readonly signature?: string } = {},
): Promise<ContentAnswer> {
  const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
  const headers: Record<string, string> = {};
  if (auth && 'secret' in auth) {
    const timestamp = String(over.timestamp ?? Math.floor(Date.now() / 1000));
    headers['x-timestamp'] = timestamp;
    headers['x-signature'] = over.signature ?? signature(auth.secret, method, path, timestamp, Buffer.from(text));
  } else if (auth) {
    headers.authorization = `Bearer ${auth.token}`;
  }
  if (text !== '') headers['content-type'] = 'application/json';
  const response = await fetch(`${base}${path}`, {
    method,
    headers,
    ...(text !== '' || over.sentBody !== undefined ? { body: over.sentBody ?? text } : {}),
  });
  const bytes = Buffer.from(await response.arrayBuffer());
  let parsed: unknown = null;
  if ((response.headers.get('content-type') ?? '').startsWith('application/json')) {
    parsed = JSON.parse(bytes.toString('utf8')) as unknown;
  }
  return { status: response.status, body: parsed, bytes, headers: response.headers };
}
