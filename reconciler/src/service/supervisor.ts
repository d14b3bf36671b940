import { ConfigError, errorMessage, TorfleetError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { untilAborted, type Runnable } from './runnable.js';
import { restartDelayMs, type Backoff, DEFAULT_BACKOFF } from './restart-backoff.js';

export type RunnableState = 'starting' | 'running' | 'backoff' | 'stopping' | 'stopped';

/** The supervisor's view of one runnable (logs, metrics). */
export interface RunnableView {
  readonly name: string;
  readonly state: RunnableState;
  /** Times it was started again after a failure. */
  readonly restarts: number;
  readonly lastError: string | null;
}

export interface SupervisorOptions {
  readonly log?: Logger;
  readonly backoff?: Backoff;
  readonly now?: () => number;
}

interface Slot {
  readonly runnable: Runnable;
  readonly abort: AbortController;
  state: RunnableState;
  restarts: number;
  /** Failures since it last ran at least `backoff.maxMs`: the exponent of the next delay. */
  consecutiveFailures: number;
  lastError: string | null;
  current: Promise<void> | undefined;
  retry: NodeJS.Timeout | undefined;
}

/**
 * Runs `torfleet run`'s runnables, in the spirit of controller-runtime's Manager. Starts them in order,
 * each once the one before is ready (or has failed); stops them in reverse when `run`'s signal aborts,
 * waiting for each. A runnable that fails (throws, rejects, or ends unasked) is logged with its name and
 * error and run again after a capped exponential backoff; the others go on. Only a `ConfigError` before
 * the first `ready()` of a runnable's first run ends `run`: everything started is stopped and `run`
 * rejects with it (the setting is wrong; retrying cannot help).
 */
export class Supervisor {
  private readonly slots: Slot[];
  private readonly log: Logger;
  private readonly backoff: Backoff;
  private readonly now: () => number;
  private startupFailure: ConfigError | undefined;

  constructor(runnables: readonly Runnable[], options: SupervisorOptions = {}) {
    const names = new Set<string>();
    for (const { name } of runnables) {
      if (names.has(name)) throw new Error(`two runnables are named "${name}"`);
      names.add(name);
    }
    this.slots = runnables.map((runnable) => ({
      runnable,
      abort: new AbortController(),
      state: 'stopped',
      restarts: 0,
      consecutiveFailures: 0,
      lastError: null,
      current: undefined,
      retry: undefined,
    }));
    this.log = options.log ?? silentLogger;
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.now = options.now ?? Date.now;
  }

  view(): RunnableView[] {
    return this.slots.map(({ runnable, state, restarts, lastError }) => ({
      name: runnable.name,
      state,
      restarts,
      lastError,
    }));
  }

  /** Starts every runnable, runs until `signal` aborts, then stops them in reverse; rejects only on a start-up ConfigError. */
  async run(signal: AbortSignal): Promise<void> {
    const stopping = untilAborted(signal);
    for (const slot of this.slots) {
      if (signal.aborted) break;
      await Promise.race([this.start(slot, true), stopping]);
      if (this.startupFailure) {
        await this.stopAll();
        throw this.startupFailure;
      }
    }
    this.log.info('runnables started', { runnables: this.view().map((v) => `${v.name}:${v.state}`) });
    await stopping;
    await this.stopAll();
  }

  /** Resolves once the runnable is ready, or its run has ended (failed: a restart is then scheduled). */
  private start(slot: Slot, first: boolean): Promise<void> {
    const { runnable } = slot;
    const log = this.log.child({ runnable: runnable.name });
    const startedAt = this.now();
    let ready = false;
    let markReady: () => void = () => undefined;
    const readied = new Promise<void>((resolve) => {
      markReady = resolve;
    });
    slot.state = 'starting';
    const context = {
      signal: slot.abort.signal,
      log,
      ready: () => {
        if (ready || slot.abort.signal.aborted) return;
        ready = true;
        slot.state = 'running';
        log.debug('runnable ready');
        markReady();
      },
    };
    slot.current = (async () => {
      await runnable.run(context);
    })().then(
      () => {
        this.ended(slot, log, undefined, { first, ready, startedAt });
      },
      (error: unknown) => {
        this.ended(slot, log, error ?? new Error('rejected without an error'), { first, ready, startedAt });
      },
    );
    return Promise.race([readied, slot.current]);
  }

  private ended(
    slot: Slot,
    log: Logger,
    error: unknown,
    run: { first: boolean; ready: boolean; startedAt: number },
  ): void {
    if (slot.abort.signal.aborted) {
      if (error !== undefined) log.warn('runnable failed while stopping', errorFields(error));
      slot.state = 'stopped';
      return;
    }
    if (run.first && !run.ready && error instanceof ConfigError) {
      slot.state = 'stopped';
      slot.lastError = errorMessage(error);
      this.startupFailure ??= error;
      return;
    }
    const failure = error ?? new Error('ended before it was asked to stop');
    const ranMs = this.now() - run.startedAt;
    slot.consecutiveFailures = ranMs >= this.backoff.maxMs ? 1 : slot.consecutiveFailures + 1;
    const delayMs = restartDelayMs(this.backoff, slot.consecutiveFailures);
    slot.state = 'backoff';
    slot.lastError = errorMessage(failure);
    log.error('runnable failed; restarting it after a backoff', {
      ...errorFields(failure),
      restartInMs: delayMs,
      consecutiveFailures: slot.consecutiveFailures,
      restarts: slot.restarts,
    });
    slot.retry = setTimeout(() => {
      slot.retry = undefined;
      if (slot.abort.signal.aborted) return;
      slot.restarts += 1;
      log.info('runnable restarting', { restarts: slot.restarts });
      void this.start(slot, false);
    }, delayMs);
  }

  private async stopAll(): Promise<void> {
    for (const slot of [...this.slots].reverse()) {
      clearTimeout(slot.retry);
      slot.retry = undefined;
      if (slot.state === 'stopped' && slot.current === undefined) continue;
      const wasRunning = slot.state !== 'backoff' && slot.state !== 'stopped';
      slot.abort.abort();
      if (wasRunning) slot.state = 'stopping';
      await slot.current;
      slot.state = 'stopped';
      this.log.info('runnable stopped', { runnable: slot.runnable.name });
    }
  }
}

function errorFields(error: unknown): Record<string, unknown> {
  return {
    error: errorMessage(error),
    ...(error instanceof TorfleetError ? { code: error.code } : {}),
  };
}
