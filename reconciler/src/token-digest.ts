import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * One rule for every secret a client presents (the API's bearer token, the gateway's proxy password, the broker's
 * client tokens): kept and compared as SHA-256 digests, in constant time, so neither the bytes nor the length of
 * the expected secret leak through timing.
 */
export function tokenDigest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** Whether `presented` (absent: never) is the secret whose digest is `expected`. */
export function matchesDigest(presented: string | null | undefined, expected: Buffer): boolean {
  return presented !== null && presented !== undefined && timingSafeEqual(tokenDigest(presented), expected);
}
