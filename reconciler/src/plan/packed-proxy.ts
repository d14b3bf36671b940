import { inPoolGeo } from '../fleet/geo-match.js';
import type { EligibleExit } from '../nodes/eligible-exit.js';
import type { Plan, ProxySpec } from './plan-types.js';

/** What a shared tor's controller needs of one proxy (the same type as reconciler/src/packing/, per spec/packing.md). */
export interface PackedProxy {
  readonly name: string; // POOL-i
  readonly sessionGroup: number; // >= 0, unique within its shared tor
  readonly listen: string; // SocksPort address, `127.0.0.1:9050` or `[::1]:9050`
  readonly exits: readonly string[]; // candidate exit fingerprints (40 hex upper): strict 1, flexible its /16 group, rotating all eligible
  readonly rotateEverySeconds: number | null; // rotating: build a new circuit (random exit of `exits`) this often
}

/**
 * A packed proxy as its controller takes it. Strict and flexible: the exits the plan pinned (one, or the /16
 * group). Rotating: every exit of `eligibleExits` (the node database's, as computePlan got them) in the pool's geo
 * minus exclude, by fingerprint: the candidates the planner counts for a rotating pool, and what a rotating
 * proxy's own tor may pick under its ExitNodes / ExcludeExitNodes lines. Decided here, not pinned in the plan,
 * so a change of the relay list leaves a rotating proxy's spec hash alone: its controller takes the new list.
 * An unpacked spec is a caller's bug: refused.
 */
export function packedProxyOf(spec: ProxySpec, eligibleExits: readonly EligibleExit[]): PackedProxy {
  if (!spec.packing) throw new Error(`packedProxyOf: proxy ${spec.name} is not packed`);
  const exits =
    spec.mode === 'rotating'
      ? inPoolGeo(eligibleExits, spec.geo, spec.exclude)
          .map((exit) => exit.fingerprint)
          .sort()
      : [...spec.exits.fingerprints];
  return {
    name: spec.name,
    sessionGroup: spec.packing.sessionGroup,
    listen: `${spec.bind.includes(':') ? `[${spec.bind}]` : spec.bind}:${spec.port}`,
    exits,
    rotateEverySeconds: spec.mode === 'rotating' ? spec.rotateEverySeconds : null,
  };
}

/** Every proxy the plan wants served by shared tor `tor`, in index order: its controller's `setProxies` list. */
export function packedProxiesOf(plan: Plan, tor: string, eligibleExits: readonly EligibleExit[]): PackedProxy[] {
  return plan.changes
    .flatMap((change) => (change.after?.packing?.tor === tor ? [change.after] : []))
    .map((spec) => packedProxyOf(spec, eligibleExits));
}
