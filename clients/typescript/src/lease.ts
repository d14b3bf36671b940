/** Where a lease came from. */
export type LeaseSource = 'service' | 'cache' | 'stale' | 'embedded' | 'direct';

export type FallbackPolicy = 'direct_connection' | 'embedded' | 'fail';

/** What request() gives: a proxy to use (or, with source `direct`, none: connect directly). Frozen. */
export interface Lease {
  /** `socks5h://LEASE:x@HOST:PORT`; null when source is `direct`. */
  readonly proxyUrl: string | null;
  readonly leaseId: string | null;
  readonly proxyId: string | null;
  /** The region as the service resolved it (`US`, `NON_US`, `DE`, a pool, a cloud region), else as asked. */
  readonly region: string;
  readonly healthScore: number | null;
  readonly strategy: string | null;
  /** As the service gave it (for a sticky lease what is left of it); 0 for an embedded fallback lease. */
  readonly ttlSeconds: number;
  /** When the lease's TTL ends, ms since the epoch (the service's answer time + ttlSeconds). */
  readonly expiresAt: number;
  readonly fallbackPolicy: FallbackPolicy | null;
  readonly source: LeaseSource;
  /** The X-Request-Id of the service call the answer came from; null for an embedded lease. */
  readonly requestId: string | null;
}

export interface RequestArgs {
  readonly exchangeId: string;
  readonly connectionType: string;
  readonly region: string;
  /** Sent as `client_id` (over the client's own); not part of the cache key. */
  readonly clientId?: string;
  /** Sent as `metadata`; not part of the cache key. */
  readonly metadata?: Readonly<Record<string, unknown>>;
  /** The X-Request-Id of the service call, when one is made (else `ts-XXXXXXXX-N`). */
  readonly requestId?: string;
}

/** A 200 of POST /api/v1/proxy/request as the service sends it (PROTOCOL.md). */
export interface ProxyAnswer {
  readonly proxy_url: string | null;
  readonly strategy: string;
  readonly ttl_seconds: number;
  readonly fallback_policy: FallbackPolicy;
  readonly metadata: {
    readonly proxy_id?: string | null;
    readonly lease_id?: string | null;
    readonly region?: string | null;
    readonly health_score?: number | null;
  };
}

const POLICIES = new Set<unknown>(['direct_connection', 'embedded', 'fail']);

/** Whether a 200 body is a proxy answer (anything else counts against the endpoint, as garbage does). */
export function isProxyAnswer(data: unknown): data is ProxyAnswer {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return false;
  const {
    metadata,
    ttl_seconds: ttl,
    proxy_url: url,
    fallback_policy: policy,
    strategy,
  } = data as Record<string, unknown>;
  return (
    metadata !== null &&
    typeof metadata === 'object' &&
    !Array.isArray(metadata) &&
    (url === null || typeof url === 'string') &&
    Number.isInteger(ttl) &&
    (ttl as number) >= 0 &&
    (ttl as number) <= 86400 &&
    POLICIES.has(policy) &&
    typeof strategy === 'string'
  );
}

const orNull = <T>(value: T | null | undefined): T | null => value ?? null;

export function leaseOf(answer: ProxyAnswer, region: string, requestId: string | null, source: LeaseSource): Lease {
  const meta = answer.metadata;
  return Object.freeze({
    proxyUrl: answer.proxy_url,
    leaseId: orNull(meta.lease_id),
    proxyId: orNull(meta.proxy_id),
    region: meta.region ?? region,
    healthScore: orNull(meta.health_score),
    strategy: answer.strategy,
    ttlSeconds: answer.ttl_seconds,
    expiresAt: Date.now() + answer.ttl_seconds * 1000,
    fallbackPolicy: answer.fallback_policy,
    source,
    requestId,
  });
}

export const withSource = (lease: Lease, source: LeaseSource): Lease => Object.freeze({ ...lease, source });

export function embeddedLease(proxyUrl: string, region: string, policy: FallbackPolicy): Lease {
  return Object.freeze({
    proxyUrl,
    leaseId: null,
    proxyId: null,
    region,
    healthScore: null,
    strategy: null,
    ttlSeconds: 0,
    expiresAt: Date.now(),
    fallbackPolicy: policy,
    source: 'embedded' as const,
    requestId: null,
  });
}
