import type { IncomingMessage } from 'node:http';
import { matchesDigest } from '../token-digest.js';

/** Whether the request's `Authorization: Bearer` token is the one whose digest is `expected` (constant time). */
export function authorized(request: IncomingMessage, expected: Buffer): boolean {
  const header = request.headers.authorization ?? '';
  return matchesDigest(presentedBearer(header), expected);
}

/** The token of an `Authorization: Bearer TOKEN` header (the scheme in any case, RFC 9110 11.1), or undefined. */
export function presentedBearer(header: string | undefined): string | undefined {
  return /^bearer (.+)$/i.exec(header ?? '')?.[1];
}
