import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ObservedSharedTor } from '../plan/plan-types.js';
import type { PackedProxyRecords } from '../runtime/packed-proxy-records.js';
import type { SharedTorRuntime } from '../runtime/shared-tor-runtime.js';
import type { RunContext, Runnable } from '../service/runnable.js';
import type { ControllerTuning } from './controller-tuning.js';
import { PackedTorController } from './packed-tor-controller.js';
import { NO_EVENTS, type PackedProxyStatus, type PackingEvents } from './packed-proxy.js';

export interface PackedTorsOptions {
  readonly sharedTors: SharedTorRuntime;
  readonly records: PackedProxyRecords;
  readonly events?: PackingEvents;
  /** Called for the pool of every shared tor a controller starts for (its metric series start at 0). */
  readonly onPool?: (pool: string) => void;
  /** A sync without a pass asking for one (a shared tor restarted by its engine, a controller left behind). */
  readonly intervalMs: number;
  readonly tuning?: Partial<ControllerTuning>;
}

/** One running controller, for the shared tor it was started for (a replaced tor gets a new controller). */
interface Held {
  readonly tor: ObservedSharedTor;
  readonly testingNetwork: boolean;
  readonly controller: PackedTorController;
  readonly stop: AbortController;
  readonly ended: Promise<void>;
}

/**
 * The `packing` runnable: a controller (PackedTorController) for every running shared tor of this instance,
 * serving the proxies its record lists (packed-proxy-records.ts, written by each pass's apply). It syncs at
 * start, from the records alone (after a restart packed proxies are served before any pass, even one that
 * fails), after every pass (`sync()`) and every `intervalMs`. A shared tor that stops or is replaced loses its
 * controller; the new one starts clean (it closes what the old one built). Nothing here throws out of `run`:
 * a record or controller that fails is logged and tried again at the next sync.
 */
export class PackedTors implements Runnable {
  readonly name = 'packing';
  readonly #held = new Map<string, Held>();
  readonly #byProxy = new Map<string, string>();
  #wake: (() => void) | null = null;
  #due = false;

  constructor(private readonly options: PackedTorsOptions) {}

  /** Asks for a sync soon (after a pass has rewritten the records). */
  sync(): void {
    this.#due = true;
    this.#wake?.();
  }

  /** What the controller serving `proxy` reports of it; null when no controller serves it. */
  status(proxy: string): PackedProxyStatus | null {
    const tor = this.#byProxy.get(proxy);
    const held = tor === undefined ? undefined : this.#held.get(tor);
    return held?.controller.statusOf(proxy) ?? null;
  }

  /** Whether a controller connected to its tor serves `proxy` (else nothing attaches its streams). */
  connected(proxy: string): boolean {
    const tor = this.#byProxy.get(proxy);
    return tor !== undefined && this.#held.get(tor)?.controller.connected() === true;
  }

  /** Every packed proxy's status, by shared tor: the metrics' gauges. */
  statuses(): { tor: string; pool: string; proxies: ReadonlyMap<string, PackedProxyStatus> }[] {
    return [...this.#held.values()].map((held) => ({
      tor: held.tor.name,
      pool: held.tor.pool,
      proxies: held.controller.status(),
    }));
  }

  async run({ signal, ready, log }: RunContext): Promise<void> {
    ready();
    try {
      while (!signal.aborted) {
        this.#due = false;
        await this.#syncOnce(log).catch((error: unknown) => {
          log.warn('packed proxies not synced', { error: errorMessage(error) });
        });
        if (!this.#dueAgain()) await this.#sleep(signal);
      }
    } finally {
      await Promise.all([...this.#held.keys()].map((tor) => this.#drop(tor)));
    }
  }

  async #syncOnce(log: Logger): Promise<void> {
    const running = new Map<string, ObservedSharedTor>();
    for (const tor of await this.options.sharedTors.listSharedTors()) {
      if (tor.state === 'running' && !running.has(tor.name)) running.set(tor.name, tor);
    }
    for (const [name, held] of this.#held) {
      if (running.get(name)?.id !== held.tor.id) await this.#drop(name);
    }
    for (const tor of running.values()) {
      try {
        const file = await this.options.records.read(tor.name);
        if (!file) continue; // started by a pass that has not written its record yet
        let held = this.#held.get(tor.name);
        if (held && held.testingNetwork !== file.testingNetwork) {
          await this.#drop(tor.name);
          held = undefined;
        }
        held ??= this.#start(tor, file.testingNetwork, log);
        held.controller.setProxies(file.proxies.map((record) => record.proxy));
        for (const [proxy, served] of this.#byProxy) if (served === tor.name) this.#byProxy.delete(proxy);
        for (const record of file.proxies) this.#byProxy.set(record.name, tor.name);
      } catch (error) {
        log.warn('shared tor not synced', { sharedTor: tor.name, error: errorMessage(error) });
      }
    }
  }

  #start(tor: ObservedSharedTor, testingNetwork: boolean, log: Logger): Held {
    this.options.onPool?.(tor.pool);
    const controller = new PackedTorController({
      dataDirectory: this.options.sharedTors.sharedTorDataDirectory(tor.name),
      testingNetwork,
      log,
      events: this.options.events ?? NO_EVENTS,
      name: tor.name,
      tuning: this.options.tuning,
    });
    const stop = new AbortController();
    const child = log.child({ sharedTor: tor.name });
    const ended = controller
      .run({ signal: stop.signal, ready: () => undefined, log: child })
      .catch((error: unknown) => {
        child.error('packing controller failed', { error: errorMessage(error) });
      });
    const held: Held = { tor, testingNetwork, controller, stop, ended };
    this.#held.set(tor.name, held);
    return held;
  }

  async #drop(tor: string): Promise<void> {
    const held = this.#held.get(tor);
    if (!held) return;
    this.#held.delete(tor);
    for (const [proxy, served] of this.#byProxy) if (served === tor) this.#byProxy.delete(proxy);
    held.stop.abort();
    await held.ended;
  }

  /** sync() was called during the last sync (read afresh: TypeScript cannot see it change across the await). */
  #dueAgain(): boolean {
    return this.#due;
  }

  #sleep(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.#wake = null;
        resolve();
      };
      const timer = setTimeout(done, this.options.intervalMs);
      signal.addEventListener('abort', done, { once: true });
      this.#wake = done;
    });
  }
}
