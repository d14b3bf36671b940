import type { IncomingMessage } from 'node:http';
import { matchesDigest } from '../token-digest.js';

/** Whether the request's `Authorization: Bearer` token is the one whose digest is `expected` (constant time). */
export function authorized(request: IncomingMessage, expected: Buffer): boolean {
  const header = request.headers.authorization ?? '';
  return matchesDigest(/^Bearer (.+)$/.exec(header)?.[1], expected);
}
