/**
 * Rendezvous (highest random weight) hashing on 32-bit integers: each proxy ranks candidates by
 * score(proxy, candidate) and takes its best free one. Deterministic (seeded only by names), and a
 * change in the candidate list moves only the proxies whose candidate left.
 */

/** FNV-1a over UTF-16 code units. */
export function hash32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** murmur3's finaliser over the two hashes: a well-spread score. */
export function score(proxyHash: number, candidateHash: number): number {
  let h = (proxyHash ^ Math.imul(candidateHash, 0x9e3779b1)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The candidate with the highest score for `proxyHash` among those `isFree` accepts; ties go to the earlier. */
export function bestCandidate<T>(
  proxyHash: number,
  candidates: readonly T[],
  candidateHashes: readonly number[],
  isFree: (candidate: T) => boolean,
): T | undefined {
  let best: T | undefined;
  let bestScore = -1;
  for (let i = 0; i < candidates.length; i++) {
    const candidate = candidates[i] as T;
    const s = score(proxyHash, candidateHashes[i] ?? 0);
    if (s > bestScore && isFree(candidate)) {
      best = candidate;
      bestScore = s;
    }
  }
  return best;
}
