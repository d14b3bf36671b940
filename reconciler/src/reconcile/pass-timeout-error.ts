import { TorfleetError } from '../errors.js';

/** A pass that ran past its deadline (TORFLEET_PASS_TIMEOUT) and was abandoned; retried with backoff. */
export class PassTimeoutError extends TorfleetError {
  constructor(trigger: string, timeoutMs: number) {
    super(
      'PASS_TIMEOUT',
      'generic',
      `the pass triggered by ${trigger} did not finish within ${Math.round(timeoutMs / 1000)} s (TORFLEET_PASS_TIMEOUT) and was abandoned; it is retried with backoff; if this repeats, look in the log for the dependency that hangs (git, Docker, the node database)`,
    );
    this.name = 'PassTimeoutError';
  }
}
