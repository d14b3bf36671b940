/**
 * A cancellation for the dial path: an object and a listener set. It stands in for AbortController/AbortSignal
 * there because, in Node 20, each signal is an EventTarget, `AbortSignal.any` keeps weak references, and `abort()`
 * without a reason builds a DOMException with a stack: at four signals per tunnel that was about a tenth of the
 * gateway's CPU under CONNECT load (a profile: createAbortSignal, DOMException, AbortSignal.any, listeners).
 * Listeners run once, in the order added, synchronously inside `cancel()`; they must not throw.
 */
export class Cancel {
  #cancelled = false;
  #reason: unknown = undefined;
  #listeners: Set<(reason: unknown) => void> | null = null;

  get cancelled(): boolean {
    return this.#cancelled;
  }

  /** What `cancel()` was given (undefined before). */
  get reason(): unknown {
    return this.#reason;
  }

  /** Cancels once: later calls do nothing. */
  cancel(reason?: unknown): void {
    if (this.#cancelled) return;
    this.#cancelled = true;
    this.#reason = reason;
    const listeners = this.#listeners;
    this.#listeners = null;
    if (listeners) for (const listener of listeners) listener(reason);
  }

  /** Calls `listener` when cancelled (at once if already); returns the function that takes it back. */
  onCancel(listener: (reason: unknown) => void): () => void {
    if (this.#cancelled) {
      listener(this.#reason);
      return noop;
    }
    this.#listeners ??= new Set();
    const listeners = this.#listeners;
    // A distinct function per registration, so adding the same listener twice takes back only one of them.
    const entry = (reason: unknown): void => {
      listener(reason);
    };
    listeners.add(entry);
    return () => {
      listeners.delete(entry);
    };
  }
}

/** A Cancel that follows `parent` (cancelled with its reason) until `unlink()`; it can also be cancelled alone. */
export function linkedCancel(parent: Cancel): { readonly cancel: Cancel; readonly unlink: () => void } {
  const cancel = new Cancel();
  const unlink = parent.onCancel((reason) => {
    cancel.cancel(reason);
  });
  return { cancel, unlink };
}

function noop(): void {
  // nothing to take back
}
