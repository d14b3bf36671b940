/**
 * Typed errors with stable codes. The `disposition` tells a controller what to do next:
 * - `stalled`: a human must act (an invalid fleet file); retrying cannot help.
 * - `waiting`: a dependency is unavailable for now (Onionoo down, Docker busy); retry later.
 * - `generic`: anything else; retried with backoff.
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
  | 'RUNTIME'
  | 'PASS_TIMEOUT';

export class TorfleetError extends Error {
  readonly code: ErrorCode;
  readonly disposition: ErrorDisposition;

  constructor(code: ErrorCode, disposition: ErrorDisposition, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TorfleetError';
    this.code = code;
    this.disposition = disposition;
  }
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
