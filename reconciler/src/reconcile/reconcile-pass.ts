import { applyPlan, type ApplyResult } from '../apply/apply-plan.js';
import { TorfleetError } from '../errors.js';
import type { FleetIssue } from '../fleet/fleet-issue.js';
import type { Fleet } from '../fleet/fleet-types.js';
import { parseFleet } from '../fleet/load-fleet.js';
import type { FleetSource } from '../fleet-source/fleet-source.js';
import { silentLogger, type Logger } from '../logger.js';
import type { NodeStore } from '../nodes/node-store.js';
import { computePlan } from '../plan/compute-plan.js';
import type { Plan, ProxySpec } from '../plan/plan-types.js';
import { specHashOf } from '../plan/spec-hash.js';
import type { ProxyRuntime } from '../runtime/proxy-runtime.js';
import { renderTorrc, DEFAULT_TORRC_OPTIONS } from '../torrc/render-torrc.js';
import { verifyTorrc } from '../torrc/verify-torrc.js';

export interface PassDependencies {
  readonly source: FleetSource;
  readonly store: NodeStore;
  readonly runtime: ProxyRuntime;
  /** The text of templates/torrc.tmpl. */
  readonly template: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly log?: Logger;
  readonly torBinary?: string;
  /** Exits the egress probe saw fail: candidates of last resort (see PlanInput.avoidedExits), never removed. */
  readonly avoidedExits?: () => ReadonlySet<string>;
}

export interface PlannedPass {
  readonly fleet: Fleet;
  readonly plan: Plan;
  readonly warnings: readonly FleetIssue[];
}

/** Reads desired and actual state fresh and computes the plan; changes nothing. */
export async function planPass(deps: PassDependencies, onRevision?: (revision: string) => void): Promise<PlannedPass> {
  const document = await deps.source.read();
  onRevision?.(document.revision);
  if (!deps.store.hasRelays()) {
    throw new TorfleetError(
      'NODE_DB',
      'waiting',
      'the node database holds no relays yet; run "torfleet nodes refresh" (or wait for the first refresh)',
    );
  }
  const { fleet, warnings } = parseFleet(document.origin, document.text, { env: deps.env, capacity: deps.store });
  refuseUnservedPacking(fleet, document.origin);
  const plan = computePlan({
    fleet,
    revision: document.revision,
    exits: deps.store.allEligibleExits(),
    avoidedExits: deps.avoidedExits?.(),
    observed: await deps.runtime.list(),
    containerShape: containerShape(deps),
  });
  return { fleet, plan, warnings };
}

/** One reconcile pass: plan, then apply exactly that plan. */
export async function reconcilePass(
  deps: PassDependencies,
  onRevision?: (revision: string) => void,
  signal?: AbortSignal,
): Promise<PlannedPass & { result: ApplyResult }> {
  const planned = await planPass(deps, onRevision);
  // A pass abandoned at its deadline applies nothing: the controller has moved on to a fresh pass.
  signal?.throwIfAborted();
  const result = await applyPlan(planned.plan, {
    runtime: deps.runtime,
    signal,
    log: deps.log ?? silentLogger,
    torrcFor: async (spec: ProxySpec) => {
      const torrc = renderTorrc(deps.template, spec, deps.runtime.torrcPaths(spec));
      await verifyTorrc(spec.name, torrc, { torBinary: deps.torBinary });
      return torrc;
    },
  });
  return { ...planned, result };
}

/** Everything besides a proxy's own spec that shapes its container: a change replaces every proxy. */
function containerShape(deps: PassDependencies): string {
  return specHashOf({ template: deps.template, runtime: deps.runtime.name, torrc: DEFAULT_TORRC_OPTIONS });
}

/**
 * Packed pools (issue 14) are validated and planned by the pure code, but no runtime serves their shared tors
 * yet: a pass refuses them rather than run each proxy on a tor of its own behind the operator's back. Nothing
 * running is touched (the pass fails before the plan is applied), and the error names the pool and the fix.
 */
function refuseUnservedPacking(fleet: Fleet, origin: string): void {
  const packed = fleet.pools.find((pool) => pool.packing);
  if (!packed) return;
  throw new TorfleetError(
    'FLEET_INVALID',
    'stalled',
    `${origin}: pool ${packed.name} sets packing, which this torfleet cannot run yet (shared tors are being built, issue 14); remove its packing: section to run it with one tor per proxy`,
  );
}
