import type { RawPool } from './raw-fleet.js';
import type { SemanticContext, SemanticResult } from './semantic-checks.js';
import type { PathSegment } from './yaml-document.js';

/**
 * `packing:` beyond what the schema holds (an integer 1 to 1000, no other key). Every mode packs (strict and
 * flexible proxies keep their own exits, rotating ones rotate by new circuits) and ports are checked as for any
 * pool, so nothing here is an error: one tor per proxy with a controller on top is legal, and only a warning.
 */
export function checkPacking(
  pool: RawPool,
  at: (...rest: PathSegment[]) => PathSegment[],
  { document }: SemanticContext,
  result: SemanticResult,
): void {
  if (pool.packing?.proxiesPerTor !== 1) return;
  result.warnings.push(
    document.issueAt(
      at('packing', 'proxiesPerTor'),
      'proxiesPerTor 1 runs one tor per proxy, as many as without packing, plus a controller for each; raise proxiesPerTor to share a tor, or remove packing',
    ),
  );
}
