import { DialError, type DialFailureReason } from './dial-types.js';

/**
 * A failure of one hop of the way out. `proxyAnswered` separates "the proxy works and told us it could not
 * reach what we asked for" (a SOCKS5 0x04, an HTTP 502: retry elsewhere, but the member is not to blame) from
 * "the proxy itself failed" (refused, reset, silent, spoke garbage: counts towards ejecting the member).
 */
export class HopError extends DialError {
  readonly proxyAnswered: boolean;

  constructor(reason: DialFailureReason, message: string, proxyAnswered: boolean, options?: { cause?: unknown }) {
    super(reason, message, options);
    this.name = 'HopError';
    this.proxyAnswered = proxyAnswered;
  }
}

/** True when `error` says the member's proxy itself failed before the tunnel was up (refused, reset, timed out). */
export function blamesMember(error: unknown): boolean {
  if (!(error instanceof DialError)) return true;
  if (error instanceof HopError && error.proxyAnswered) return false;
  return error.reason === 'refused' || error.reason === 'timeout';
}
