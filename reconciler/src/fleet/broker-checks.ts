import { assignedCountry } from '../nodes/country-codes.js';
import type { RawFleet } from './raw-fleet.js';
import type { SemanticContext, SemanticResult } from './semantic-checks.js';

/**
 * fleet.yaml `broker.regions`: each cloud region name maps to what a client could also ask for directly —
 * `US`, `NON_US`, an assigned country code, or a pool of this fleet — and no region name is also a pool's
 * name (a request for it would mean two things).
 */
export function checkBroker(raw: RawFleet, { document, origins }: SemanticContext, result: SemanticResult): void {
  const regions = raw.broker?.regions ?? {};
  const pools = new Set(raw.pools.map((pool) => pool.name));
  for (const [name, target] of Object.entries(regions)) {
    const path = ['broker', 'regions', name];
    if (pools.has(name)) {
      result.issues.push(
        document.issueAt(
          path,
          `"${name}" is a pool's name too: rename the region or the pool, so a request means one thing`,
        ),
      );
      continue;
    }
    if (target === 'US' || target === 'NON_US' || pools.has(target) || assignedCountry(target) !== null) continue;
    const upper = target.toUpperCase();
    const hint =
      upper === 'US' || upper === 'NON_US' || assignedCountry(upper) !== null
        ? `write it in upper case: ${upper}`
        : `use US, NON_US, a country code such as DE, or one of the pools: ${[...pools].join(', ') || '(none)'}`;
    result.issues.push(
      document.issueAt(path, `region "${name}" maps to ${origins.show(path, target)}, which is no region: ${hint}`),
    );
  }
}
