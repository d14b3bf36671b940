import { readFileSync } from 'node:fs';
import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import { watchFile, type Stop } from '../reconcile/triggers.js';

export type Parsed<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly errors: readonly string[] };

/**
 * A value read from files (the broker's tokens file, its TLS certificate and key) and read again when one of them
 * changes. A first read that fails is thrown (the caller cannot start); a later one keeps the value it had and
 * logs why, so a half-written or mistyped file never takes a running service down.
 */
export class WatchedFiles<T> {
  #value: T;
  #texts: readonly Buffer[] = [];
  #stops: Stop[] = [];
  #settle: NodeJS.Timeout | undefined;

  constructor(
    private readonly files: readonly string[],
    private readonly parse: (texts: readonly Buffer[]) => Parsed<T>,
    private readonly what: string,
    private readonly log: Logger,
    private readonly onChange: (value: T) => void = () => undefined,
  ) {
    const first = this.#read();
    if (!first.ok) throw new Error(first.errors.join('; '));
    this.#value = first.value;
    this.#texts = first.texts;
  }

  get value(): T {
    return this.#value;
  }

  /** Starts following the files; `stop` ends it. */
  watch(): void {
    this.#stops = this.files.map((file) => watchFile(file, () => this.reload()));
    // A watcher takes a moment to start: a change made meanwhile is caught by one more read once it has.
    this.#settle = setTimeout(() => this.reload(), 1000);
    this.#settle.unref();
  }

  async stop(): Promise<void> {
    clearTimeout(this.#settle);
    await Promise.all(this.#stops.map(async (stop) => stop()));
    this.#stops = [];
  }

  /** Reads the files again now; true when they changed and the new value took effect. */
  reload(): boolean {
    const next = this.#read();
    if (next.ok && this.#same(next.texts)) return false;
    if (!next.ok) {
      this.log.warn(`${this.what} changed but cannot be used; the previous one stays in effect`, {
        errors: next.errors,
      });
      return false;
    }
    this.#value = next.value;
    this.#texts = next.texts;
    this.onChange(next.value);
    this.log.info(`${this.what} read again`, { files: this.files });
    return true;
  }

  #same(texts: readonly Buffer[]): boolean {
    return (
      texts.length === this.#texts.length && texts.every((text, i) => text.equals(this.#texts[i] ?? Buffer.alloc(0)))
    );
  }

  #read(): (Parsed<T> & { readonly ok: false }) | { readonly ok: true; readonly value: T; readonly texts: Buffer[] } {
    const texts: Buffer[] = [];
    for (const file of this.files) {
      try {
        texts.push(readFileSync(file));
      } catch (error) {
        return { ok: false, errors: [`cannot read ${file}: ${errorMessage(error)}`] };
      }
    }
    try {
      const parsed = this.parse(texts);
      return parsed.ok ? { ok: true, value: parsed.value, texts } : parsed;
    } catch (error) {
      return { ok: false, errors: [errorMessage(error)] };
    }
  }
}
