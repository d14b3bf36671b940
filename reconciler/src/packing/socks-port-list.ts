import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import { ControlRefusedError, type ControlReply } from '../tor-control/control-connection.js';
import { socksPortCommand, type SocksPortEntry } from './socks-ports.js';

/**
 * The shared tor's SocksPort list, set by full-list SETCONFs, one at a time (the latest list wins). tor opens or
 * closes only the listeners that changed, so the other proxies' ports and streams are untouched. One port tor
 * cannot open (taken, not allowed) makes the whole SETCONF fail and tor keep its old list: then the ports are
 * added one by one, and each that fails is reported for its proxy (`errorOf`) while the others are served.
 */
export class SocksPortList {
  readonly #send: (line: string) => Promise<ControlReply>;
  readonly #log: Logger;
  #applied: SocksPortEntry[] = [];
  readonly #errors = new Map<string, string>();
  #chain: Promise<void> = Promise.resolve();

  constructor(send: (line: string) => Promise<ControlReply>, log: Logger) {
    this.#send = send;
    this.#log = log;
  }

  errorOf(listen: string): string | null {
    return this.#errors.get(listen) ?? null;
  }

  apply(desired: readonly SocksPortEntry[], onFailed: (listen: string, why: string) => void): Promise<void> {
    const run = this.#chain.then(() => this.#apply(desired, onFailed));
    this.#chain = run.catch(() => undefined);
    return run;
  }

  async #apply(desired: readonly SocksPortEntry[], onFailed: (listen: string, why: string) => void): Promise<void> {
    // A port whose session group changes is closed first: tor would keep the open listener as it is.
    const regrouped = new Set(
      desired
        .filter((d) => this.#applied.some((a) => a.listen === d.listen && a.sessionGroup !== d.sessionGroup))
        .map((d) => d.listen),
    );
    if (regrouped.size > 0) {
      const without = this.#applied.filter((a) => !regrouped.has(a.listen));
      await this.#send(socksPortCommand(without));
      this.#applied = without;
    }
    try {
      await this.#send(socksPortCommand(desired));
      this.#applied = [...desired];
      this.#errors.clear();
      return;
    } catch (error) {
      if (!(error instanceof ControlRefusedError)) throw error;
      this.#log.warn('tor refused the SocksPort list; adding the new ports one by one', { error: errorMessage(error) });
    }
    const same = (a: SocksPortEntry, b: SocksPortEntry): boolean =>
      a.listen === b.listen && a.sessionGroup === b.sessionGroup;
    const good = this.#applied.filter((a) => desired.some((d) => same(a, d)));
    await this.#send(socksPortCommand(good));
    this.#applied = [...good];
    this.#errors.clear();
    for (const entry of desired.filter((d) => !good.some((g) => same(g, d)))) {
      try {
        await this.#send(socksPortCommand([...good, entry]));
        good.push(entry);
        this.#applied = [...good];
      } catch (error) {
        if (!(error instanceof ControlRefusedError)) throw error;
        const why = `tor could not open its SocksPort ${entry.listen}: ${errorMessage(error)}`;
        this.#errors.set(entry.listen, why);
        onFailed(entry.listen, why);
      }
    }
  }
}
