import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';

export interface UnusableProxiesOptions {
  /** Names of the proxies the runtime reports running. */
  readonly running: () => Promise<readonly string[]>;
  /** Names of the proxies the fleet wants. */
  readonly wanted: () => readonly string[];
  /** Whether a proxy's last egress check failed. */
  readonly failing: (proxy: string) => boolean;
  readonly publish: (unusable: readonly string[]) => Promise<void>;
  readonly log: Logger;
}

/**
 * Which fleet proxies the gateway should skip inside `torfleet run`: wanted but not running, or failing
 * their egress check. `refresh(true)` lists the runtime again (after a pass); `refresh(false)` reuses the
 * last listing (after an egress check). Refreshes run one at a time; those asked meanwhile fold into one.
 */
export class UnusableProxies {
  readonly #options: UnusableProxiesOptions;
  #running: ReadonlySet<string> | undefined;
  #busy = false;
  #queued: boolean | undefined;

  constructor(options: UnusableProxiesOptions) {
    this.#options = options;
  }

  refresh(listRuntime: boolean): void {
    if (this.#busy) {
      this.#queued = (this.#queued ?? false) || listRuntime;
      return;
    }
    this.#busy = true;
    void this.#run(listRuntime);
  }

  async #run(listRuntime: boolean): Promise<void> {
    const { running, wanted, failing, publish, log } = this.#options;
    try {
      if (listRuntime || !this.#running) this.#running = new Set(await running());
      const up = this.#running;
      await publish(wanted().filter((proxy) => !up.has(proxy) || failing(proxy)));
    } catch (error) {
      log.debug('the gateway keeps its last view of proxy health', { error: errorMessage(error) });
    } finally {
      this.#busy = false;
      const queued = this.#queued;
      this.#queued = undefined;
      if (queued !== undefined) this.refresh(queued);
    }
  }
}
