import { randomBytes } from 'node:crypto';
import { hostPort } from '../listen-address.js';
import type { ChoiceRule } from './health/proxy-choice.js';

/** What applies when no proxy is there for a request (`proxy_url: null`): the contract's three policies. */
export const FALLBACK_POLICIES = ['direct_connection', 'embedded', 'fail'] as const;
export type FallbackPolicy = (typeof FALLBACK_POLICIES)[number];

/** The answer of `POST /api/v1/proxy/request`, in the contract's shape. */
export interface LeaseAnswer {
  readonly proxy_url: string | null;
  /** How the proxy was chosen: the health model's rule, `sticky` (the live lease of the same request), `none`. */
  readonly strategy: ChoiceRule | 'sticky' | 'none';
  readonly ttl_seconds: number;
  readonly fallback_policy: FallbackPolicy;
  readonly metadata: {
    readonly proxy_id: string | null;
    readonly lease_id: string | null;
    readonly region: string;
    readonly health_score: number | null;
  };
}

/**
 * A new lease id: 128 random bits, base64url, with a prefix that says what it is. It is the SOCKS user name of
 * the lease's `proxy_url` (tor gives each user name its own circuit), so it holds only URL-safe characters.
 */
export function newLeaseId(): string {
  return `lease_${randomBytes(16).toString('base64url')}`;
}

/** `socks5h://LEASE:x@HOST:PORT`: the proxy, with the lease as SOCKS credentials (its own circuit). */
export function leaseProxyUrl(leaseId: string, host: string, port: number): string {
  return `socks5h://${encodeURIComponent(leaseId)}:x@${hostPort(host, port)}`;
}

export function leaseAnswer(lease: {
  readonly id: string;
  readonly proxyId: string;
  readonly host: string;
  readonly port: number;
  readonly region: string;
  readonly ttlSeconds: number;
  readonly healthScore: number;
  readonly strategy: ChoiceRule | 'sticky';
  readonly fallback: FallbackPolicy;
}): LeaseAnswer {
  return {
    proxy_url: leaseProxyUrl(lease.id, lease.host, lease.port),
    strategy: lease.strategy,
    ttl_seconds: lease.ttlSeconds,
    fallback_policy: lease.fallback,
    metadata: {
      proxy_id: lease.proxyId,
      lease_id: lease.id,
      region: lease.region,
      health_score: Math.round(lease.healthScore * 1000) / 1000,
    },
  };
}

/** The answer when the region is known but nothing in it is healthy: no proxy, and the policy that applies. */
export function noProxyAnswer(region: string, fallback: FallbackPolicy, ttlSeconds: number): LeaseAnswer {
  return {
    proxy_url: null,
    strategy: 'none',
    ttl_seconds: ttlSeconds,
    fallback_policy: fallback,
    metadata: { proxy_id: null, lease_id: null, region, health_score: null },
  };
}
