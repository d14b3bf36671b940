/**
 * A Map of at most `max` entries in order of last write: `set` moves a key to the end and forgets the oldest
 * beyond the bound. What keeps the model's memory bounded whatever ids clients send.
 */
export class RecentMap<K, V> {
  readonly #entries = new Map<K, V>();

  constructor(private readonly max: number) {}

  get(key: K): V | undefined {
    return this.#entries.get(key);
  }

  set(key: K, value: V): void {
    this.#entries.delete(key);
    this.#entries.set(key, value);
    for (const oldest of this.#entries.keys()) {
      if (this.#entries.size <= this.max) break;
      this.#entries.delete(oldest);
    }
  }

  delete(key: K): void {
    this.#entries.delete(key);
  }

  get size(): number {
    return this.#entries.size;
  }

  keys(): IterableIterator<K> {
    return this.#entries.keys();
  }
}
