import { Parser } from 'yaml';

/** Deepest nesting of collections accepted; a fleet needs 4 (pools → pool → geo list). */
export const MAX_YAML_DEPTH = 20;

/**
 * The source offset of the first collection nested deeper than `max`, or undefined. Walks yaml's
 * concrete syntax tree with an explicit stack: the composer and toJS recurse once per level, and
 * a few hundred levels overflow the call stack, so depth is bounded before they run.
 */
export function tooDeepAt(text: string, max = MAX_YAML_DEPTH): number | undefined {
  const stack: { token: unknown; depth: number }[] = [];
  for (const token of new Parser().parse(text)) stack.push({ token, depth: 0 });
  while (stack.length > 0) {
    const { token, depth } = stack.pop() ?? { token: undefined, depth: 0 };
    if (!token || typeof token !== 'object') continue;
    const { items, value, offset } = token as { items?: unknown; value?: unknown; offset?: number };
    if (Array.isArray(items)) {
      if (depth + 1 > max) return offset ?? 0;
      for (const item of items as { key?: unknown; value?: unknown }[]) {
        stack.push({ token: item.key, depth: depth + 1 }, { token: item.value, depth: depth + 1 });
      }
    } else if (value !== undefined) {
      stack.push({ token: value, depth }); // a document or a property wrapper: same level
    }
  }
  return undefined;
}
