import { escapeControls, MAX_SHOWN_CHARACTERS, showValue } from './display-text.js';
import type { Substitution } from './env-substitution.js';
import type { PathSegment } from './yaml-document.js';

/** Substituted text shorter than this is not scrubbed from messages: it would mangle ordinary words. */
const MIN_SCRUBBED_LENGTH = 4;

/**
 * Knows which values of a fleet came, wholly or partly, from `${NAME}` references, so that no
 * message ever shows their text. Every message that quotes a value asks `show(path, value)`; and
 * `scrub` removes any substituted text that reached a message some other way (defence in depth).
 */
export class EnvOrigins {
  readonly #substitutions: readonly Substitution[];
  readonly #scrubbed: readonly { readonly text: string; readonly placeholder: string }[];

  constructor(substitutions: readonly Substitution[]) {
    this.#substitutions = substitutions;
    const scrubbed = new Map<string, string>();
    for (const { variables } of substitutions) {
      for (const { name, value } of variables) {
        for (const text of spellings(value)) {
          if (text.length >= MIN_SCRUBBED_LENGTH && !scrubbed.has(text)) scrubbed.set(text, `[from \${${name}}]`);
        }
      }
    }
    // Longest first, so that a secret containing another is replaced whole.
    this.#scrubbed = [...scrubbed]
      .map(([text, placeholder]) => ({ text, placeholder }))
      .sort((a, b) => b.text.length - a.text.length);
  }

  /** The variables that make up the value at `path` or anything under it, in document order, each once. */
  variablesAt(path: readonly PathSegment[]): string[] {
    const names = new Set<string>();
    for (const substitution of this.#substitutions) {
      if (isWithin(substitution.path, path)) for (const { name } of substitution.variables) names.add(name);
    }
    return [...names];
  }

  /** Whether the value at `path` is exactly one `${NAME}` reference. */
  isWholeReference(path: readonly PathSegment[]): boolean {
    return this.#substitutions.some((s) => s.wholeValue && samePath(s.path, path));
  }

  isFromEnvironment(path: readonly PathSegment[]): boolean {
    return this.variablesAt(path).length > 0;
  }

  /** How a message shows the value at `path`: `[from ${NAME}]` when it came from the environment. */
  show(path: readonly PathSegment[], value: unknown): string {
    const names = this.variablesAt(path);
    return names.length > 0 ? `[from ${names.map((name) => `\${${name}}`).join(', ')}]` : showValue(value);
  }

  /** `text` with every substituted value's text (raw, escaped or quoted) replaced by `[from ${NAME}]`. */
  scrub(text: string): string {
    let out = text;
    for (const { text: secret, placeholder } of this.#scrubbed) out = out.split(secret).join(placeholder);
    return out;
  }
}

/** The forms a value can take inside a message: raw, JSON-escaped, control-escaped, and cut as quoteText cuts. */
function spellings(value: string): string[] {
  const json = JSON.stringify(value).slice(1, -1);
  const quoted = escapeControls(value.replace(/[\\"]/g, (char) => `\\${char}`));
  const cut = escapeControls(
    Array.from(value)
      .slice(0, MAX_SHOWN_CHARACTERS)
      .join('')
      .replace(/[\\"]/g, (c) => `\\${c}`),
  );
  return [value, json, quoted, cut];
}

/** Whether `inner` is `outer` or below it. */
function isWithin(inner: readonly PathSegment[], outer: readonly PathSegment[]): boolean {
  return inner.length >= outer.length && outer.every((segment, i) => segment === inner[i]);
}

function samePath(a: readonly PathSegment[], b: readonly PathSegment[]): boolean {
  return a.length === b.length && a.every((segment, i) => segment === b[i]);
}
