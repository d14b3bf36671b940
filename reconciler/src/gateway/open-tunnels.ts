import type { Socket } from 'node:net';

/**
 * The exchanges in flight (tunnels, and plain HTTP requests while their member socket is open): counted for
 * `openTunnels()` and the drain, and destroyed together when the drain's deadline passes.
 */
export class OpenTunnels {
  readonly #open = new Set<readonly Socket[]>();
  #waiters: (() => void)[] = [];

  /** Tracks the sockets of one exchange until the returned release is called (more calls are no-ops). */
  add(...sockets: Socket[]): () => void {
    const entry: readonly Socket[] = sockets;
    this.#open.add(entry);
    return () => {
      if (!this.#open.delete(entry) || this.#open.size > 0) return;
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const wake of waiters) wake();
    };
  }

  get size(): number {
    return this.#open.size;
  }

  /** Resolves once nothing is open (at once when nothing is). */
  whenEmpty(): Promise<void> {
    if (this.#open.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  destroyAll(): void {
    for (const sockets of this.#open) for (const socket of sockets) socket.destroy();
  }
}
