import path from 'node:path';

const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * Where content of a SHA-256 lives in the store: `<root>/ab/cd/<hash>` (the contract's `data/content/ab/cd/<sha256>`),
 * two levels of 256 directories so no directory holds more than a few thousand files. Only a lowercase hex digest is
 * accepted, so no input can name a path outside the root.
 */
export function contentPath(root: string, sha256: string): string {
  if (!SHA256_HEX.test(sha256))
    throw new RangeError(`not a SHA-256 hex digest: ${JSON.stringify(sha256.slice(0, 80))}`);
  return path.join(root, sha256.slice(0, 2), sha256.slice(2, 4), sha256);
}
