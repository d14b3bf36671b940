/**
 * Parsers for the asynchronous events the controller subscribes to (control-spec 4.1): `STREAM`, `CIRC` and
 * `CONF_CHANGED`. Pure; a line that does not parse gives null (the caller ignores it), never a throw.
 */
export interface StreamEvent {
  readonly kind: 'stream';
  readonly streamId: string;
  /** NEW, NEWRESOLVE, CONTROLLER_WAIT, SENTCONNECT, SUCCEEDED, DETACHED, FAILED, CLOSED, REMAP ... */
  readonly status: string;
  /** `0` while unattached. */
  readonly circuitId: string;
  readonly target: string;
  /** USER for a client's stream; DIR_FETCH ... for tor's own. Null when absent. */
  readonly purpose: string | null;
  readonly sessionGroup: number | null;
  readonly socksUsername: string | null;
  readonly socksPassword: string | null;
  readonly reason: string | null;
}

export interface CircuitEvent {
  readonly kind: 'circuit';
  readonly circuitId: string;
  /** LAUNCHED, EXTENDED, BUILT, FAILED, CLOSED, GUARD_WAIT. */
  readonly status: string;
  /** Fingerprints of the hops so far, in order. */
  readonly path: readonly string[];
  readonly purpose: string | null;
  readonly reason: string | null;
  readonly remoteReason: string | null;
}

export interface ConfChangedEvent {
  readonly kind: 'conf';
  /** `Key=Value` (or a bare `Key`, reset to its default) per changed option. */
  readonly settings: ReadonlyMap<string, string | null>;
}

export type TorEvent = StreamEvent | CircuitEvent | ConfChangedEvent;

const ID = /^\d{1,16}$/;
const FINGERPRINT_HOP = /^\$([0-9A-F]{40})(?:[~=][A-Za-z0-9]{1,19})?$/;

/** The event a reply's lines carry (`lines[0]` without its `650` status), or null for others and for garbage. */
export function parseTorEvent(lines: readonly string[]): TorEvent | null {
  const first = lines[0] ?? '';
  if (first === 'CONF_CHANGED') return parseConfChanged(lines.slice(1));
  const { words, keywords } = splitArguments(first);
  if (words[0] === 'STREAM') {
    const [, streamId = '', status = '', circuitId = '', target = ''] = words;
    if (!ID.test(streamId) || !ID.test(circuitId) || !/^[A-Z_]{1,20}$/.test(status)) return null;
    const group = keywords.get('SESSION_GROUP');
    return {
      kind: 'stream',
      streamId,
      status,
      circuitId,
      target,
      purpose: keywords.get('PURPOSE') ?? null,
      sessionGroup: group !== undefined && /^-?\d{1,10}$/.test(group) ? Number(group) : null,
      socksUsername: keywords.get('SOCKS_USERNAME') ?? null,
      socksPassword: keywords.get('SOCKS_PASSWORD') ?? null,
      reason: keywords.get('REASON') ?? null,
    };
  }
  if (words[0] === 'CIRC') {
    const [, circuitId = '', status = '', maybePath] = words;
    if (!ID.test(circuitId) || !/^[A-Z_]{1,20}$/.test(status)) return null;
    const path: string[] = [];
    for (const hop of maybePath === undefined ? [] : maybePath.split(',')) {
      const fingerprint = FINGERPRINT_HOP.exec(hop)?.[1];
      if (fingerprint === undefined) return null;
      path.push(fingerprint);
    }
    return {
      kind: 'circuit',
      circuitId,
      status,
      path,
      purpose: keywords.get('PURPOSE') ?? null,
      reason: keywords.get('REASON') ?? null,
      remoteReason: keywords.get('REMOTE_REASON') ?? null,
    };
  }
  return null;
}

function parseConfChanged(lines: readonly string[]): ConfChangedEvent {
  const settings = new Map<string, string | null>();
  for (const line of lines) {
    if (line === 'OK') continue;
    const at = line.indexOf('=');
    if (at === -1) settings.set(line, null);
    else settings.set(line.slice(0, at), line.slice(at + 1));
  }
  return { kind: 'conf', settings };
}

/**
 * Splits `WORD WORD KEY=VALUE KEY="quoted \"value\""`: positional words first, then keyword arguments (a value in
 * quotes is C-unescaped: `\"`, `\\`, `\n`, `\t`, `\r`, octal `\NNN`). Anything after an unterminated quote is dropped.
 */
export function splitArguments(text: string): { words: string[]; keywords: Map<string, string> } {
  const words: string[] = [];
  const keywords = new Map<string, string>();
  let at = 0;
  while (at < text.length) {
    while (text[at] === ' ') at++;
    if (at >= text.length) break;
    const key = /^([A-Za-z_][A-Za-z0-9_]*)=/.exec(text.slice(at, at + 64))?.[1];
    if (key !== undefined && text[at + key.length + 1] === '"') {
      const parsed = unquote(text, at + key.length + 1);
      if (parsed === null) break;
      keywords.set(key, parsed.value);
      at = parsed.end;
      continue;
    }
    let end = text.indexOf(' ', at);
    if (end === -1) end = text.length;
    const token = text.slice(at, end);
    if (key !== undefined) keywords.set(key, token.slice(key.length + 1));
    else if (keywords.size === 0) words.push(token);
    at = end;
  }
  return { words, keywords };
}

const ESCAPES: Readonly<Record<string, string>> = { n: '\n', t: '\t', r: '\r', '"': '"', '\\': '\\', "'": "'" };

/** The quoted string starting at `text[start]` (a `"`), unescaped, and where it ends; null if unterminated. */
function unquote(text: string, start: number): { value: string; end: number } | null {
  let value = '';
  for (let at = start + 1; at < text.length; at++) {
    const char = text[at] ?? '';
    if (char === '"') return { value, end: at + 1 };
    if (char !== '\\') {
      value += char;
      continue;
    }
    const octal = /^[0-7]{1,3}/.exec(text.slice(at + 1, at + 4))?.[0];
    if (octal !== undefined) {
      value += String.fromCharCode(parseInt(octal, 8));
      at += octal.length;
    } else {
      value += ESCAPES[text[at + 1] ?? ''] ?? text[at + 1] ?? '';
      at++;
    }
  }
  return null;
}
