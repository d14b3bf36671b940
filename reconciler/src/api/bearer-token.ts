import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** The token's SHA-256, what `authorized` compares against. */
export function tokenDigest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** Constant-time comparison of the bearer token (through digests, so lengths do not leak either). */
export function authorized(request: IncomingMessage, expected: Buffer): boolean {
  const header = request.headers.authorization ?? '';
  const presented = /^Bearer (.+)$/.exec(header)?.[1];
  return presented !== undefined && timingSafeEqual(tokenDigest(presented), expected);
}
