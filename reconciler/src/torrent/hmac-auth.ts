import { createHmac, timingSafeEqual } from 'node:crypto';

/** How far a request's `X-Timestamp` may be from the service's clock, either way (the contract: 300 s). */
export const REPLAY_WINDOW_SECONDS = 300;

/** Methods whose signed requests are refused when received twice (a replayed POST would make a second job). */
const CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** What a signed request carries, as received. */
export interface SignedRequest {
  readonly method: string;
  /** The request target's path (with its query, as sent). */
  readonly path: string;
  readonly timestamp: string | undefined;
  readonly signature: string | undefined;
  readonly body: Buffer;
}

export type SignatureCheck =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly reason: 'missing' | 'bad_timestamp' | 'stale' | 'bad_signature' | 'replayed';
      readonly message: string;
    };

/** `HEX(HMAC-SHA256(secret, METHOD + "\n" + PATH + "\n" + X-Timestamp + "\n" + BODY))`: the contract's signature. */
export function signature(secret: Buffer, method: string, path: string, timestamp: string, body: Buffer): string {
  return createHmac('sha256', secret)
    .update(`${method.toUpperCase()}\n${path}\n${timestamp}\n`)
    .update(body)
    .digest('hex');
}

/**
 * Checks a signed request: both headers present, the timestamp whole seconds within REPLAY_WINDOW_SECONDS of
 * `nowSeconds`, the signature the body's (compared in constant time), and, for a request that changes something
 * (POST, PUT, PATCH, DELETE), not seen before within the window (an identical request sent twice is a replay: the
 * second is refused). Signatures are remembered
 * while a replay could still pass the time check, at most `maxRemembered` (the oldest forgotten first).
 */
export class SignatureVerifier {
  readonly #seen = new Map<string, number>();

  constructor(
    private readonly secret: Buffer,
    private readonly nowSeconds: () => number,
    private readonly maxRemembered = 100_000,
  ) {}

  check(request: SignedRequest): SignatureCheck {
    const { timestamp, signature: sent } = request;
    if (timestamp === undefined || sent === undefined) {
      return {
        ok: false,
        reason: 'missing',
        message: 'send X-Timestamp (unix seconds) and X-Signature (hex HMAC-SHA256), or Authorization: Bearer TOKEN',
      };
    }
    if (!/^\d{1,12}$/.test(timestamp)) {
      return {
        ok: false,
        reason: 'bad_timestamp',
        message: 'X-Timestamp must be whole unix seconds (not milliseconds), such as 1796246345',
      };
    }
    const now = this.nowSeconds();
    if (Math.abs(now - Number(timestamp)) > REPLAY_WINDOW_SECONDS) {
      return {
        ok: false,
        reason: 'stale',
        message: `X-Timestamp is more than ${REPLAY_WINDOW_SECONDS} s from the service's clock (${String(now)}): sign with the current time`,
      };
    }
    const expected = Buffer.from(signature(this.secret, request.method, request.path, timestamp, request.body), 'hex');
    if (!/^[0-9a-fA-F]{64}$/.test(sent) || !timingSafeEqual(expected, Buffer.from(sent, 'hex'))) {
      return {
        ok: false,
        reason: 'bad_signature',
        message: 'X-Signature is not HEX(HMAC-SHA256(secret, METHOD\\nPATH\\nX-Timestamp\\nBODY)) of this request',
      };
    }
    // A GET or HEAD sent again reads again (a client polling a job's status twice in one second signs the same
    // bytes): harmless, so only requests that change something are refused when replayed.
    if (!CHANGING.has(request.method.toUpperCase())) return { ok: true };
    const key = expected.toString('hex');
    this.#forget(now);
    if (this.#seen.has(key)) {
      return {
        ok: false,
        reason: 'replayed',
        message: 'this signed request was already received: sign each request anew',
      };
    }
    this.#seen.set(key, now);
    if (this.#seen.size > this.maxRemembered) {
      const oldest = this.#seen.keys().next().value;
      if (oldest !== undefined) this.#seen.delete(oldest);
    }
    return { ok: true };
  }

  /**
   * A request received at A carried a timestamp within the window of A, so from A + 2 windows on it fails the time
   * check anyway: forgotten then. Kept in order of arrival, so this stops at the first one still young.
   */
  #forget(now: number): void {
    for (const [key, arrived] of this.#seen) {
      if (now - arrived <= 2 * REPLAY_WINDOW_SECONDS) break;
      this.#seen.delete(key);
    }
  }
}
