import { quoteText } from '../fleet/display-text.js';

/** A value that should never have passed validation reached the renderer: a bug, refused rather than written. */
export class TorrcRenderError extends Error {
  constructor(unit: string, what: string) {
    super(`refusing to render the torrc of ${unit}: ${what}`);
    this.name = 'TorrcRenderError';
  }
}

/** Refuses, naming the unit (a proxy or a shared tor) whose torrc is rendered. */
export class Guard {
  constructor(private readonly unit: string) {}

  check(value: string, pattern: RegExp, what: string): string {
    return pattern.test(value) ? value : this.refuse(`${what} ${quoteText(value)} is not allowed`);
  }

  /** `check`, then `valid(value)`: the pattern bounds the characters, `valid` parses the value fully. */
  parse(value: string, pattern: RegExp, what: string, valid: (value: string) => boolean): string {
    const checked = this.check(value, pattern, what);
    return valid(checked) ? checked : this.refuse(`${what} ${quoteText(value)} is not valid`);
  }

  refuse(what: string): never {
    throw new TorrcRenderError(this.unit, what);
  }
}

/** A placeholder's value: one checked token (inline), or zero or more whole lines (a block). */
export type TemplateValues = Readonly<Record<string, () => string | string[]>>;

const PLACEHOLDER = /\{\{([a-zA-Z]+)\}\}/g;

/**
 * Fills a torrc template. Pure. Inline placeholders take one checked token; a line holding only a block
 * placeholder becomes zero or more whole lines. Unknown placeholders fail, and so does a result holding a line
 * continuation or an %include, whatever the template says.
 */
export function renderTemplate(template: string, values: TemplateValues, guard: Guard): string {
  const produce = (name: string, kind: string): string | string[] =>
    (values[name] ?? guard.refuse(`unknown template ${kind} {{${name}}}`))();

  const lines: string[] = [];
  for (const line of template.split('\n')) {
    const block = /^\{\{([a-zA-Z]+)\}\}$/.exec(line.trim());
    if (block) {
      const produced = produce(block[1] ?? '', 'block');
      lines.push(...(Array.isArray(produced) ? produced : [produced]));
      continue;
    }
    lines.push(
      line.replace(PLACEHOLDER, (_match, name: string) => {
        const produced = produce(name, 'value');
        return Array.isArray(produced) ? guard.refuse(`{{${name}}} is a block: put it on a line of its own`) : produced;
      }),
    );
  }
  const text = lines.join('\n');
  if (/\\\n/.test(text) || /^\s*%include/m.test(text))
    guard.refuse('the template produced a line continuation or %include');
  return text.endsWith('\n') ? text : `${text}\n`;
}
