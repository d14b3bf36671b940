import { applyPlan, type ApplyResult } from '../apply/apply-plan.js';
import { TorfleetError } from '../errors.js';
import type { FleetIssue } from '../fleet/fleet-issue.js';
import type { Fleet } from '../fleet/fleet-types.js';
import { parseFleet } from '../fleet/load-fleet.js';
import type { FleetSource } from '../fleet-source/fleet-source.js';
import { silentLogger, type Logger } from '../logger.js';
import type { NodeStore } from '../nodes/node-store.js';
import type { PackedApply } from '../apply/apply-packed.js';
import type { EligibleExit } from '../nodes/eligible-exit.js';
import { computePlan } from '../plan/compute-plan.js';
import { packedProxyOf } from '../plan/packed-proxy.js';
import type { ObservedProxy, ObservedSharedTor, Plan, ProxySpec } from '../plan/plan-types.js';
import { sharedTorShapeOf } from '../plan/shared-tor-spec.js';
import type { SharedTorSpec } from '../plan/shared-tor-types.js';
import { specHashOf } from '../plan/spec-hash.js';
import { PackedProxyRuntime } from '../runtime/packed-proxy-runtime.js';
import type { ProxyRuntime } from '../runtime/proxy-runtime.js';
import { renderSharedTorrc } from '../torrc/render-shared-torrc.js';
import { renderTorrc, DEFAULT_TORRC_OPTIONS } from '../torrc/render-torrc.js';
import { verifyTorrc } from '../torrc/verify-torrc.js';

export interface PassDependencies {
  readonly source: FleetSource;
  readonly store: NodeStore;
  readonly runtime: ProxyRuntime;
  /** The text of templates/torrc.tmpl. */
  readonly template: string;
  /** The text of templates/shared-torrc.tmpl (packed pools' shared tors). */
  readonly sharedTemplate: string;
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
  /** The node database's eligible exits the plan was made with (a rotating packed proxy's candidates). */
  readonly exits: readonly EligibleExit[];
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
  refuseUnservedPacking(fleet, document.origin, deps.runtime);
  const exits = deps.store.allEligibleExits();
  const { observed, observedSharedTors } = await listed(deps.runtime);
  const plan = computePlan({
    fleet,
    revision: document.revision,
    exits,
    avoidedExits: deps.avoidedExits?.(),
    observed,
    containerShape: containerShape(deps),
    observedSharedTors,
    sharedTorShape: sharedTorShapeOf({
      template: deps.sharedTemplate,
      runtime: deps.runtime.name,
      torrc: DEFAULT_TORRC_OPTIONS,
    }),
  });
  return { fleet, plan, warnings, exits };
}

/** Proxies (packed ones included) and shared tors, from one listing. */
async function listed(
  runtime: ProxyRuntime,
): Promise<{ observed: ObservedProxy[]; observedSharedTors: ObservedSharedTor[] }> {
  if (!(runtime instanceof PackedProxyRuntime)) return { observed: await runtime.list(), observedSharedTors: [] };
  const all = await runtime.listAll();
  return { observed: all.proxies, observedSharedTors: all.sharedTors };
}

/** What the apply needs for packed pools, when the runtime runs them. */
function packedApply(deps: PassDependencies, exits: readonly EligibleExit[]): PackedApply | undefined {
  const { runtime } = deps;
  if (!(runtime instanceof PackedProxyRuntime)) return undefined;
  return {
    sharedTors: runtime.sharedTors,
    records: runtime.records,
    sharedTorrcFor: async (spec: SharedTorSpec) => {
      const paths = { dataDirectory: runtime.sharedTors.sharedTorrcPaths(spec).dataDirectory };
      const torrc = renderSharedTorrc(deps.sharedTemplate, spec, paths);
      await verifyTorrc(spec.name, torrc, { torBinary: deps.torBinary });
      return torrc;
    },
    entryOf: (spec: ProxySpec) => packedProxyOf(spec, exits),
    now: () => new Date(),
  };
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
    packed: packedApply(deps, planned.exits),
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
 * A packed pool needs a runtime that runs shared tors on this host (docker, process): on any other (swarm,
 * where a controller cannot reach a shared tor's ControlSocket on another node) the pass fails before the
 * plan is applied, so nothing running is touched, and the error names the pool and the fix.
 */
function refuseUnservedPacking(fleet: Fleet, origin: string, runtime: ProxyRuntime): void {
  const packed = fleet.pools.find((pool) => pool.packing);
  if (!packed || runtime instanceof PackedProxyRuntime) return;
  throw new TorfleetError(
    'FLEET_INVALID',
    'stalled',
    `${origin}: pool ${packed.name} sets packing, which the ${runtime.name} runtime cannot run (a shared tor's controller needs its ControlSocket on this host); use TORFLEET_RUNTIME=docker or process, or remove its packing: section to run it with one tor per proxy`,
  );
}
