const REDACTED = '[redacted]';

/**
 * A value substituted from the environment that must never be printed: JSON, string
 * conversion and util.inspect all show a placeholder. Only `reveal()` gives the value,
 * and only the torrc renderer and the spec hash call it.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toJSON(): string {
    return REDACTED;
  }

  toString(): string {
    return REDACTED;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return REDACTED;
  }
}
