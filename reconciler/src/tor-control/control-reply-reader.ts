/** One line of a control-protocol reply; a `250+key=` line carries its data block (dot-unescaped lines). */
export interface ReplyLine {
  readonly status: number;
  readonly text: string;
  readonly data: readonly string[] | null;
}

/** A complete reply: synchronous (answering a command, 2xx-5xx) or an asynchronous event (6xx). */
export interface ControlReply {
  readonly status: number;
  readonly lines: readonly ReplyLine[];
}

/**
 * The lines of a GETINFO value: tor sends a value with several lines as a data block (`250+key=` ... `.`) and a
 * one-line value inline (`250-key=value`), an empty one as `250-key=`.
 */
export function getinfoLines(reply: ControlReply, key: string): string[] {
  const line = reply.lines.find((candidate) => candidate.text.startsWith(`${key}=`));
  if (!line) return [];
  if (line.data) return [...line.data];
  const value = line.text.slice(key.length + 1);
  return value === '' ? [] : [value];
}

/** The peer broke the control protocol (garbage, an oversized line or reply); the connection cannot go on. */
export class ControlProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ControlProtocolError';
  }
}

export interface ReplyLimits {
  /** Longest line (without its line end) accepted. */
  readonly maxLineBytes: number;
  /** Largest reply accepted, asked when a reply starts: events have their own (small) cap. */
  readonly maxReplyBytes: (isEvent: boolean) => number;
}

const LINE = /^(\d{3})([ +-])(.*)$/s;

/**
 * Turns the bytes a tor control connection sends into complete replies (control-spec section 2.3:
 * `NNN-` mid lines, `NNN+` data lines ended by a lone `.`, `NNN ` end lines). Holds at most one line and
 * one reply in memory, both capped: a peer sending a line or a reply over the caps, or anything that is not a
 * reply line, gets a ControlProtocolError from `push` and must be disconnected.
 */
export class ReplyReader {
  readonly #limits: ReplyLimits;
  readonly #onReply: (reply: ControlReply) => void;
  #partial: Buffer[] = [];
  #partialBytes = 0;
  #lines: ReplyLine[] = [];
  #replyBytes = 0;
  #replyCap = 0;
  #dataHead: { status: number; text: string } | null = null;
  #data: string[] = [];

  constructor(limits: ReplyLimits, onReply: (reply: ControlReply) => void) {
    this.#limits = limits;
    this.#onReply = onReply;
  }

  /** True while a reply has started but not ended (a close now is a close mid-reply). */
  get inReply(): boolean {
    return this.#lines.length > 0 || this.#dataHead !== null || this.#partialBytes > 0;
  }

  push(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const end = chunk.indexOf(10, start);
      if (end === -1) {
        const rest = chunk.subarray(start);
        this.#partialBytes += rest.length;
        if (this.#partialBytes > this.#limits.maxLineBytes) throw this.#lineTooLong();
        if (rest.length > 0) this.#partial.push(Buffer.from(rest));
        return;
      }
      let line = chunk.subarray(start, end);
      if (this.#partial.length > 0) {
        line = Buffer.concat([...this.#partial, line]);
        this.#partial = [];
        this.#partialBytes = 0;
      }
      if (line.length > this.#limits.maxLineBytes + 1) throw this.#lineTooLong();
      const text = line.toString('latin1');
      this.#line(text.endsWith('\r') ? text.slice(0, -1) : text);
      start = end + 1;
    }
  }

  #line(text: string): void {
    if (this.#lines.length === 0 && this.#dataHead === null) {
      const status = Number(/^\d{3}/.exec(text)?.[0] ?? 0);
      this.#replyCap = this.#limits.maxReplyBytes(status >= 600 && status < 700);
      this.#replyBytes = 0;
    }
    this.#replyBytes += text.length + 2;
    if (this.#replyBytes > this.#replyCap) {
      throw new ControlProtocolError(`a reply longer than ${this.#replyCap} bytes`);
    }
    if (this.#dataHead !== null) {
      if (text === '.') {
        this.#lines.push({ ...this.#dataHead, data: this.#data });
        this.#dataHead = null;
        this.#data = [];
      } else {
        this.#data.push(text.startsWith('.') ? text.slice(1) : text);
      }
      return;
    }
    const match = LINE.exec(text);
    if (!match) throw new ControlProtocolError(`not a control-protocol reply line: ${preview(text)}`);
    const status = Number(match[1]);
    const separator = match[2];
    const rest = match[3] ?? '';
    if (separator === '+') {
      this.#dataHead = { status, text: rest };
      return;
    }
    this.#lines.push({ status, text: rest, data: null });
    if (separator === ' ') {
      const reply = { status, lines: this.#lines };
      this.#lines = [];
      this.#onReply(reply);
    }
  }

  #lineTooLong(): ControlProtocolError {
    return new ControlProtocolError(`a line longer than ${this.#limits.maxLineBytes} bytes`);
  }
}

/** The start of a line, printable ASCII only, for an error message. */
function preview(text: string): string {
  const shown = text.slice(0, 60).replace(/[^\x20-\x7e]/g, '?');
  return JSON.stringify(text.length > 60 ? `${shown}...` : shown);
}
