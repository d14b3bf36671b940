import { Cancel, linkedCancel } from './cancel.js';
import { DialError } from './dial-types.js';
import { HopError } from './hop-error.js';

/** The cancel reason of a hop whose time ran out (told apart from the request's own cancel). */
class HopTimeout {
  constructor(readonly ms: number) {}
}

export interface Hop {
  /** Cancelled when the hop's time is up or when the request is cancelled. */
  readonly cancel: Cancel;
  /** Clears the timer and the link to the request's cancel: call it in a `finally`. */
  end(): void;
}

/** One step of the way out (a TCP connection, one proxy's handshake), boxed in `timeoutMs` and the request's cancel. */
export function startHop(request: Cancel, timeoutMs: number): Hop {
  const { cancel, unlink } = linkedCancel(request);
  const timer = setTimeout(() => {
    cancel.cancel(new HopTimeout(timeoutMs));
  }, timeoutMs);
  return {
    cancel,
    end: () => {
      clearTimeout(timer);
      unlink();
    },
  };
}

/** The DialError for a cancelled hop: `timeout` when its time ran out, `aborted` when the request went away. */
export function hopAbortError(cancel: Cancel, what: string): DialError {
  const reason: unknown = cancel.reason;
  if (reason instanceof HopTimeout) return new HopError('timeout', `${what}: no answer within ${reason.ms} ms`, false);
  return new DialError('aborted', `${what}: given up, the client went away or the gateway is stopping`);
}
