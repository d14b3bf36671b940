import { DialError } from './dial-types.js';
import { HopError } from './hop-error.js';

/** The abort reason of a hop whose time ran out (told apart from the request's own abort). */
class HopTimeout {
  constructor(readonly ms: number) {}
}

export interface Hop {
  /** Aborted when the hop's time is up or when the request is aborted. */
  readonly signal: AbortSignal;
  /** Clears the timer and the link to the request's signal: call it in a `finally`. */
  end(): void;
}

/** One step of the way out (a TCP connection, one proxy's handshake), boxed in `timeoutMs` and the request's abort. */
export function startHop(request: AbortSignal, timeoutMs: number): Hop {
  const controller = new AbortController();
  const onRequestAbort = (): void => {
    controller.abort(request.reason);
  };
  const timer = setTimeout(() => {
    controller.abort(new HopTimeout(timeoutMs));
  }, timeoutMs);
  if (request.aborted) onRequestAbort();
  else request.addEventListener('abort', onRequestAbort, { once: true });
  return {
    signal: controller.signal,
    end: () => {
      clearTimeout(timer);
      request.removeEventListener('abort', onRequestAbort);
    },
  };
}

/** The DialError for an aborted hop: `timeout` when its time ran out, `aborted` when the request went away. */
export function hopAbortError(signal: AbortSignal, what: string): DialError {
  const reason: unknown = signal.reason;
  if (reason instanceof HopTimeout) return new HopError('timeout', `${what}: no answer within ${reason.ms} ms`, false);
  return new DialError('aborted', `${what}: given up, the client went away or the gateway is stopping`);
}
