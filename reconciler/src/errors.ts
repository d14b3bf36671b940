/**
 * Typed errors with stable codes. The `disposition` tells a controller what to do next:
 * - `stalled`: a human must act (an invalid fleet file, the tor image missing, a torrc tor refuses);
 *   retrying cannot help, so the controller waits for the next event (a commit, a Docker event, a resync).
 * - `waiting`: a dependency is unavailable for now (Onionoo down, Docker busy); retried after
 *   `retryAfterMs` (or the controller's default delay), without growing backoff.
 * - `generic`: anything else; retried with exponential backoff.
 * Messages are lowercase and say what failed, where, and what to do.
 */
export type ErrorDisposition = 'stalled' | 'waiting' | 'generic';

export type ErrorCode =
  | 'FLEET_INVALID'
  | 'FLEET_UNREADABLE'
  | 'NODE_SOURCE_UNAVAILABLE'
  | 'NODE_SOURCE_INVALID'
  | 'NODE_DB'
  | 'NODE_SNAPSHOT_REFUSED'
  | 'USAGE'
  | 'CONFIG_INVALID'
  | 'TORRC_INVALID'
  | 'TORRC_UNCHECKED'
  | 'TOR_MISSING'
  | 'IMAGE_MISSING'
  | 'RUNTIME'
  | 'RUNTIME_CONFLICT'
  | 'PASS_TIMEOUT';

/**
 * Every code, for metric labels initialised at start. A Record, so a code added to the union above and
 * not here fails to compile.
 */
const CODES: Record<ErrorCode, true> = {
  FLEET_INVALID: true,
  FLEET_UNREADABLE: true,
  NODE_SOURCE_UNAVAILABLE: true,
  NODE_SOURCE_INVALID: true,
  NODE_DB: true,
  NODE_SNAPSHOT_REFUSED: true,
  USAGE: true,
  CONFIG_INVALID: true,
  TORRC_INVALID: true,
  TORRC_UNCHECKED: true,
  TOR_MISSING: true,
  IMAGE_MISSING: true,
  RUNTIME: true,
  RUNTIME_CONFLICT: true,
  PASS_TIMEOUT: true,
};
export const ERROR_CODES = Object.keys(CODES) as readonly ErrorCode[];

/** The code of an error that is neither a TorfleetError nor carries a code of its own. */
export const INTERNAL_CODE = 'INTERNAL';

export class TorfleetError extends Error {
  readonly code: ErrorCode;
  readonly disposition: ErrorDisposition;
  /** For a `waiting` error: how long until trying again makes sense; the controller's default when absent. */
  readonly retryAfterMs: number | undefined;

  constructor(
    code: ErrorCode,
    disposition: ErrorDisposition,
    message: string,
    options?: { cause?: unknown; retryAfterMs?: number },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TorfleetError';
    this.code = code;
    this.disposition = disposition;
    this.retryAfterMs = disposition === 'waiting' ? options?.retryAfterMs : undefined;
  }
}

/** What decides the next step after a failure, as a plain value (kept in results, shown in /status). */
export interface ErrorSummary {
  /** A TorfleetError's code, else a cause's own (`SQLITE_CORRUPT`, `EACCES`), else INTERNAL. */
  readonly code: string;
  readonly disposition: ErrorDisposition;
  readonly message: string;
  readonly retryAfterMs?: number;
}

/** The summary of any thrown value: a TorfleetError (also as a cause) decides; anything else is generic. */
export function summarizeError(error: unknown): ErrorSummary {
  const typed = typedErrorOf(error);
  const base = { code: errorCodeOf(error), message: errorMessage(error) };
  if (!typed) return { ...base, disposition: 'generic' };
  return {
    ...base,
    disposition: typed.disposition,
    ...(typed.retryAfterMs === undefined ? {} : { retryAfterMs: typed.retryAfterMs }),
  };
}

/** The stable code of an error: a TorfleetError's, else a cause's own (`SQLITE_CORRUPT`), else INTERNAL. */
export function errorCodeOf(error: unknown): string {
  for (let at: unknown = error, depth = 0; at instanceof Error && depth < 5; at = at.cause, depth++) {
    if (at instanceof TorfleetError) return at.code;
    const code = (at as { code?: unknown }).code;
    if (typeof code === 'string' && /^[A-Z][A-Z0-9_]*$/.test(code)) return code;
  }
  return INTERNAL_CODE;
}

/** The first TorfleetError along the cause chain (a wrapper without a disposition defers to its cause). */
function typedErrorOf(error: unknown): TorfleetError | undefined {
  for (let at: unknown = error, depth = 0; at instanceof Error && depth < 5; at = at.cause, depth++) {
    if (at instanceof TorfleetError) return at;
  }
  return undefined;
}

/** The user called a command wrongly: the message says the right form. */
export class UsageError extends TorfleetError {
  constructor(message: string) {
    super('USAGE', 'stalled', message);
    this.name = 'UsageError';
  }
}

/** A setting (environment variable or flag) has a value torfleet cannot use. */
export class ConfigError extends TorfleetError {
  constructor(message: string) {
    super('CONFIG_INVALID', 'stalled', message);
    this.name = 'ConfigError';
  }
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause;
    return cause instanceof Error && !error.message.includes(cause.message)
      ? `${error.message}: ${cause.message}`
      : error.message;
  }
  return String(error);
}
