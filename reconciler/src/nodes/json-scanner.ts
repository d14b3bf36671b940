/**
 * Finds the extent of JSON values inside a UTF-8 buffer without building them, so a large document
 * can be parsed one small piece at a time. Structural characters are ASCII, and UTF-8 continuation
 * bytes never equal an ASCII byte, so scanning bytes is exact. Offsets past the end mean "truncated".
 */
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

export class TruncatedJsonError extends Error {
  constructor(readonly offset: number) {
    super(`the JSON ends early at byte ${offset}`);
  }
}

export class JsonScanner {
  constructor(private readonly bytes: Buffer) {}

  get length(): number {
    return this.bytes.length;
  }

  byteAt(offset: number): number {
    if (offset >= this.bytes.length) throw new TruncatedJsonError(offset);
    return this.bytes[offset] ?? 0;
  }

  skipWhitespace(offset: number): number {
    let i = offset;
    while (i < this.bytes.length) {
      const b = this.bytes[i];
      if (b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09) break;
      i++;
    }
    return i;
  }

  /** The offset just past the value starting at `offset`. */
  endOfValue(offset: number): number {
    const first = this.byteAt(offset);
    if (first === QUOTE) return this.endOfString(offset);
    if (first === OPEN_BRACE || first === OPEN_BRACKET) return this.endOfContainer(offset);
    let i = offset;
    while (i < this.bytes.length) {
      if (endsScalar(this.bytes[i])) return i;
      i++;
    }
    throw new TruncatedJsonError(i);
  }

  /** The bytes scanned, for a ValueSkipper. */
  get buffer(): Buffer {
    return this.bytes;
  }

  /** Parses the value in [start, end) with JSON.parse. */
  parse(start: number, end: number): unknown {
    return JSON.parse(this.bytes.toString('utf8', start, end));
  }

  expect(offset: number, byte: number, what: string): number {
    if (this.byteAt(offset) !== byte) throw new SyntaxError(`expected ${what} at byte ${offset}`);
    return offset + 1;
  }

  private endOfString(offset: number): number {
    let i = offset + 1;
    while (i < this.bytes.length) {
      const b = this.bytes[i];
      if (b === BACKSLASH) i += 2;
      else if (b === QUOTE) return i + 1;
      else i++;
    }
    throw new TruncatedJsonError(i);
  }

  private endOfContainer(offset: number): number {
    let depth = 0;
    let i = offset;
    while (i < this.bytes.length) {
      const b = this.bytes[i];
      if (b === QUOTE) {
        i = this.endOfString(i);
        continue;
      }
      if (b === OPEN_BRACE || b === OPEN_BRACKET) depth++;
      else if (b === CLOSE_BRACE || b === CLOSE_BRACKET) {
        depth--;
        if (depth === 0) return i + 1;
      }
      i++;
    }
    throw new TruncatedJsonError(i);
  }
}

/**
 * Skips one JSON value across any number of chunks without keeping it: only a depth counter and whether it
 * is inside a string survive between chunks, so memory stays constant however large the value is. It checks
 * that strings end and brackets balance, no more (the value is thrown away, so its inner syntax is moot).
 */
export class ValueSkipper {
  private kind: 'none' | 'string' | 'container' | 'scalar' = 'none';
  private depth = 0;
  private inString = false;
  private escaped = false;

  /** Feeds bytes from `offset`; returns the offset just past the value once it ends, else undefined (all used). */
  feed(bytes: Buffer, offset: number): number | undefined {
    let i = offset;
    if (this.kind === 'none') {
      if (i >= bytes.length) return undefined;
      const first = bytes[i];
      if (first === QUOTE) {
        this.kind = 'string';
        this.inString = true;
        i++;
      } else if (first === OPEN_BRACE || first === OPEN_BRACKET) {
        this.kind = 'container';
      } else if (first === CLOSE_BRACE || first === CLOSE_BRACKET || first === COMMA || first === COLON) {
        throw new SyntaxError(`expected a value at byte ${i}`);
      } else {
        this.kind = 'scalar';
      }
    }
    for (; i < bytes.length; i++) {
      const b = bytes[i];
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (b === BACKSLASH) this.escaped = true;
        else if (b === QUOTE) {
          this.inString = false;
          if (this.kind === 'string') return i + 1;
        }
      } else if (this.kind === 'scalar') {
        if (endsScalar(b)) return i;
      } else if (b === QUOTE) {
        this.inString = true;
      } else if (b === OPEN_BRACE || b === OPEN_BRACKET) {
        this.depth++;
      } else if (b === CLOSE_BRACE || b === CLOSE_BRACKET) {
        this.depth--;
        if (this.depth === 0) return i + 1;
      }
    }
    return undefined;
  }
}

export const JSON_BYTES = { OPEN_BRACE, CLOSE_BRACE, OPEN_BRACKET, CLOSE_BRACKET, COMMA, COLON, QUOTE } as const;

/** A byte that ends a JSON number, `true`, `false` or `null`: a separator, a closing bracket, white space. */
function endsScalar(b: number | undefined): boolean {
  return (
    b === COMMA || b === CLOSE_BRACE || b === CLOSE_BRACKET || b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09
  );
}
