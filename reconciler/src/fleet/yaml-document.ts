import { isMap, isScalar, LineCounter, parseDocument, visit, type Document, type Node } from 'yaml';
import type { FleetIssue } from './fleet-issue.js';
import { formatPath } from './fleet-issue.js';

export type PathSegment = string | number;

/** A parsed YAML document that can say where any path of it stands in the source. */
export interface LocatedDocument {
  readonly file: string;
  readonly value: unknown;
  /** The location of the value at `path`, or of its nearest existing ancestor. */
  issueAt(path: readonly PathSegment[], message: string): FleetIssue;
  /** The location of the key `key` of the mapping at `path` (for unknown keys). */
  issueAtKey(path: readonly PathSegment[], key: string, message: string): FleetIssue;
}

/** Aliases allowed in one fleet file; a fleet needs few, and a bound stops "billion laughs" expansion. */
export const MAX_ALIASES = 64;
/** The bound of yaml's own per-alias expansion check. */
const MAX_ALIAS_EXPANSION = 100;
/** Largest expanded document (as JSON) accepted; the source is at most 1 MiB. */
const MAX_EXPANDED_BYTES = 4 * 1024 * 1024;

export type ParseOutcome = { ok: true; document: LocatedDocument } | { ok: false; issues: FleetIssue[] };

export function parseYamlDocument(file: string, text: string): ParseOutcome {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, schema: 'core' });
  const locateOffset = (offset: number): { line: number; column: number } => {
    const pos = lineCounter.linePos(offset);
    return { line: pos.line, column: pos.col };
  };
  const atOffset = (offset: number, path: string, message: string): FleetIssue => ({
    file,
    path,
    ...locateOffset(offset),
    message,
  });

  // Warnings (unresolved tags such as !!js/function, ...) are errors here: a fleet file has no use for them.
  const problems = [...doc.errors, ...doc.warnings].map((e) => atOffset(e.pos[0], '', `yaml: ${firstLine(e.message)}`));
  if (problems.length > 0) return { ok: false, issues: problems };

  const aliasOffsets: number[] = [];
  visit(doc, {
    Alias(_key, alias) {
      aliasOffsets.push(alias.range?.[0] ?? 0);
    },
  });
  if (aliasOffsets.length > MAX_ALIASES) {
    return {
      ok: false,
      issues: [
        atOffset(aliasOffsets[MAX_ALIASES] ?? 0, '', `yaml: more than ${MAX_ALIASES} aliases; write the values out`),
      ],
    };
  }

  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_EXPANSION }) as unknown;
  } catch (error) {
    const where = aliasOffsets[0] ?? 0;
    const reason = error instanceof Error ? error.message : String(error);
    return {
      ok: false,
      issues: [atOffset(where, '', `yaml: aliases expand too far (${reason}); write the values out`)],
    };
  }
  if (((JSON.stringify(value) as string | undefined)?.length ?? 0) > MAX_EXPANDED_BYTES) {
    return {
      ok: false,
      issues: [atOffset(aliasOffsets[0] ?? 0, '', 'yaml: the document expands beyond 4 MiB; write the values out')],
    };
  }

  const issueAt = (path: readonly PathSegment[], message: string): FleetIssue => {
    const offset = nearestNode(doc, path)?.range?.[0] ?? 0;
    return atOffset(offset, formatPath(path), message);
  };
  const issueAtKey = (path: readonly PathSegment[], key: string, message: string): FleetIssue => {
    const map = doc.getIn(path, true);
    if (isMap(map)) {
      const pair = map.items.find((p) => isScalar(p.key) && p.key.value === key);
      if (pair && isScalar(pair.key) && pair.key.range) {
        return atOffset(pair.key.range[0], formatPath([...path, key]), message);
      }
    }
    return issueAt(path, message);
  };
  return { ok: true, document: { file, value, issueAt, issueAtKey } };
}

function nearestNode(doc: Document, path: readonly PathSegment[]): Node | undefined {
  for (let depth = path.length; depth >= 0; depth--) {
    const node: unknown = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true);
    if (node && typeof node === 'object' && 'range' in node) return node as Node;
  }
  return undefined;
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0] ?? text;
}
