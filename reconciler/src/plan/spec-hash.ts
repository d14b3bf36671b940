import { createHash } from 'node:crypto';
import type { TorSettings } from '../fleet/fleet-types.js';

/** JSON with object keys sorted at every depth, so equal values always serialise alike. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) return item;
    const record = item as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(record)
        .sort()
        .map((key) => [key, record[key]]),
    );
  });
}

/** A short, stable hash (20 hex digits) of a value's canonical JSON: the `torfleet.spec-hash` label. */
export function specHashOf(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, 20);
}

/**
 * Tor settings as every spec hash takes them: the HTTPS proxy credential only as its digest (a hash label must
 * not carry a secret, and a changed credential must still replace what uses it).
 */
export function hashableTorSettings(tor: TorSettings): unknown {
  const proxy = tor.httpsProxy && {
    address: tor.httpsProxy.address,
    auth: specHashOf(tor.httpsProxy.auth?.reveal() ?? null),
  };
  return { ...tor, httpsProxy: proxy };
}
