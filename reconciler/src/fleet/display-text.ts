/** Longest piece of user-provided text quoted in a message, in characters (code points). */
export const MAX_SHOWN_CHARACTERS = 80;

/**
 * Characters that must never reach a terminal or a log line raw: C0 controls and DEL, C1 controls,
 * bidirectional overrides and isolates (U+202A-U+202E, U+2066-U+2069), marks that reorder text
 * (U+061C, U+200E, U+200F), line and paragraph separators, and lone surrogates.
 */
const UNSAFE = /[\p{Cc}\u061C\u200E\u200F\u2028\u2029\u202A-\u202E\u2066-\u2069\uFEFF]|\p{Cs}/gu;

const NAMED: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** `text` with every unsafe character written as an escape (`\n`, `\u{1B}`, `\u{202E}`); nothing else changes. */
export function escapeControls(text: string): string {
  return text.replace(UNSAFE, (char) => NAMED[char] ?? `\\u{${(char.codePointAt(0) ?? 0).toString(16).toUpperCase()}}`);
}

/**
 * Renders user-provided text (a key, a value) for a message: in double quotes, `"` and `\` escaped,
 * control and bidi characters escaped, and cut after 80 characters with the full length said:
 * `"aaaa…" (500000 characters)`. The result is always one line.
 */
export function quoteText(text: string, max = MAX_SHOWN_CHARACTERS): string {
  const characters = Array.from(text);
  const shown = characters.length > max ? characters.slice(0, max).join('') : text;
  const body = escapeControls(shown.replace(/[\\"]/g, (char) => `\\${char}`));
  return characters.length > max ? `"${body}…" (${characters.length} characters)` : `"${body}"`;
}

/** Any value for a message: strings quoted as above, other scalars as JSON, collections summarised. */
export function showValue(value: unknown): string {
  if (typeof value === 'string') return quoteText(value);
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'a mapping';
  return typeof value === 'number' || typeof value === 'boolean' ? String(value) : typeof value;
}

/** A whole message built elsewhere (a library's, tor's): one line, escaped, at most `max` characters. */
export function safeMessage(text: string, max = 300): string {
  const escaped = escapeControls(text);
  const characters = Array.from(escaped);
  return characters.length > max ? `${characters.slice(0, max).join('')}… (cut)` : escaped;
}
