import { isCollection, isMap, isScalar, LineCounter, parseDocument, visit, type Document, type Node } from 'yaml';
import { safeMessage } from './display-text.js';
import type { FleetIssue } from './fleet-issue.js';
import { formatPath } from './fleet-issue.js';
import { MAX_YAML_DEPTH, tooDeepAt } from './yaml-depth.js';

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
/** Syntax errors reported from one file: after one slip the parser often reports every line that follows. */
export const MAX_YAML_ERRORS = 10;

export type ParseOutcome = { ok: true; document: LocatedDocument } | { ok: false; issues: FleetIssue[] };

export function parseYamlDocument(file: string, text: string): ParseOutcome {
  const lineCounter = new LineCounter();
  const atOffset = (offset: number, path: string, message: string): FleetIssue => {
    const pos = lineCounter.linePos(offset);
    return { file, path, line: pos.line, column: pos.col, message };
  };
  // logLevel 'error': the yaml library would otherwise print warnings (collection keys ...) to stderr itself.
  const doc = parseDocument(text, {
    lineCounter,
    prettyErrors: false,
    uniqueKeys: true,
    schema: 'core',
    logLevel: 'error',
  });
  // yaml catches its own stack overflows and reports them as "Maximum call stack size exceeded": that
  // says nothing to an operator, and converting such a document later would overflow here.
  const overflow = (message: string): boolean => message.startsWith('Maximum call stack size exceeded');
  const deep = tooDeepAt(text);
  const firstError = doc.errors.find((e) => !overflow(e.message));
  if (deep !== undefined && (firstError === undefined || firstError.pos[0] > deep)) {
    return {
      ok: false,
      issues: [
        atOffset(
          deep,
          '',
          `yaml: collections nested deeper than ${MAX_YAML_DEPTH} levels; a fleet file needs 4 (pools, a pool, its geo list): flatten the document`,
        ),
      ],
    };
  }

  // Warnings (unresolved tags such as !!js/function, ...) are errors here: a fleet file has no use for them.
  const problems = [...doc.errors, ...doc.warnings]
    .filter((e) => !overflow(e.message))
    .map((e) => atOffset(e.pos[0], '', `yaml: ${safeMessage(firstLine(e.message))}`));
  visit(doc, {
    Pair(_key, pair) {
      if (isCollection(pair.key)) {
        problems.push(
          atOffset(pair.key.range?.[0] ?? 0, '', 'yaml: a key must be a plain value, not a list or mapping'),
        );
      }
    },
  });
  if (problems.length > MAX_YAML_ERRORS) {
    const shown = problems.slice(0, MAX_YAML_ERRORS);
    const last = shown[shown.length - 1];
    const more = problems.length - MAX_YAML_ERRORS;
    return {
      ok: false,
      issues: [
        ...shown,
        {
          file,
          path: '',
          line: last?.line ?? 1,
          column: last?.column ?? 1,
          message: `and ${more} more yaml error(s), most likely caused by the first: fix it and validate again`,
        },
      ],
    };
  }
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
