import type { Logger } from '../logger.js';

/** What a runnable is given for one run: when to stop, how to say it serves, and its own logger. */
export interface RunContext {
  /** Aborts when the supervisor stops this runnable (SIGTERM/SIGINT); `run` then cleans up and resolves. */
  readonly signal: AbortSignal;
  /** This runnable serves now (the API listens, the first refresh is done): the next one may start. */
  readonly ready: () => void;
  /** Carries `runnable: <name>` on every line. */
  readonly log: Logger;
}

/**
 * One long-running part of `torfleet run` (the API, the controller, a trigger), in the spirit of
 * controller-runtime's Runnable. `run` resolves once `signal` has aborted and the runnable has stopped;
 * a throw, a rejection or an end before the stop is a failure: the supervisor logs it and runs it again
 * after a backoff. A `ConfigError` before `ready()` on the first run means the service cannot start.
 */
export interface Runnable {
  /** Stable and short (a metric label): `api`, `controller`, `node-refresh`. */
  readonly name: string;
  run(context: RunContext): Promise<void>;
}

/** Resolves when `signal` aborts (at once if it already has). */
export function untilAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    signal.addEventListener(
      'abort',
      () => {
        resolve();
      },
      { once: true },
    );
  });
}

/** A runnable that calls `fire` every `ms` (the first after `ms`) until it is stopped. */
export function ticker(name: string, ms: number, fire: () => void): Runnable {
  return {
    name,
    async run({ signal, ready }) {
      const timer = setInterval(fire, ms);
      ready();
      await untilAborted(signal);
      clearInterval(timer);
    },
  };
}
