import type { FallbackConfig } from './fallback.js';

/**
 * The client's options: the Python client's, camelCase, same meanings and units (seconds). An option given wins
 * over the environment (TORFLEET_BROKER_URLS, _URLS_FILE, _TOKEN, _TOKEN_FILE, _CA_FILE).
 */
export interface ClientOptions {
  /** A list, or one comma-separated string. Fixed: never re-read. */
  readonly endpoints?: readonly string[] | string;
  /** One URL a line, `#` comments; re-read when it changes. */
  readonly endpointsFile?: string;
  readonly token?: string;
  /** Re-read when it changes (a rotated token is used within `watchInterval`; an empty file keeps the old one). */
  readonly tokenFile?: string;
  /** The CA that signed the broker's certificate (certificates are always verified); re-read when it changes. */
  readonly caFile?: string;
  /** The embedded fallback configuration. */
  readonly fallback?: FallbackConfig | null;
  /** Sent as `client_id` in requests and feedback. */
  readonly clientId?: string;
  /** Seconds one request() may spend on the service (default 0.8). */
  readonly timeout?: number;
  /** Seconds past its TTL an answer is still served as stale while it is refreshed (60). */
  readonly staleSeconds?: number;
  readonly maxCacheEntries?: number;
  /** An answer over this is a failure; reading stops there (1 MiB). */
  readonly maxAnswerBytes?: number;
  /** Failures in a row that open an endpoint's breaker (2). */
  readonly failureThreshold?: number;
  /** First open period of a breaker, seconds (0.5; doubles per open in a row). */
  readonly breakerBaseSeconds?: number;
  /** Longest open period, seconds (10). */
  readonly breakerMaxSeconds?: number;
  /** Feedback events held at most (10000). */
  readonly feedbackBuffer?: number;
  /** Seconds between feedback flushes (1). */
  readonly feedbackInterval?: number;
  /** Seconds one flush may spend on the service (2). */
  readonly feedbackTimeout?: number;
  /** Seconds between checks of the endpoints, token and CA sources (0.5). */
  readonly watchInterval?: number;
}

export const DEFAULTS = {
  timeout: 0.8,
  staleSeconds: 60,
  maxCacheEntries: 10_000,
  maxAnswerBytes: 1 << 20,
  failureThreshold: 2,
  breakerBaseSeconds: 0.5,
  breakerMaxSeconds: 10,
  feedbackBuffer: 10_000,
  feedbackInterval: 1,
  feedbackTimeout: 2,
  watchInterval: 0.5,
} as const;

/** An environment variable, or undefined when unset or empty. */
export const fromEnv = (name: string): string | undefined => {
  const value = process.env[name];
  return value === undefined || value === '' ? undefined : value;
};
