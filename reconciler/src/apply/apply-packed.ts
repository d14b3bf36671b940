import { forEachConcurrently } from '../concurrency/for-each-concurrently.js';
import { summarizeError, TorfleetError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { PackedProxy } from '../packing/packed-proxy.js';
import type { ObservedProxy, Plan, PlannedChange, ProxySpec } from '../plan/plan-types.js';
import type { SharedTorChange, SharedTorSpec } from '../plan/shared-tor-types.js';
import {
  observedPackedProxy,
  type PackedProxyRecord,
  type PackedProxyRecords,
} from '../runtime/packed-proxy-records.js';
import type { ProxyRuntime } from '../runtime/proxy-runtime.js';
import type { SharedTorRuntime } from '../runtime/shared-tor-runtime.js';
import type { ChangeFailure } from './apply-plan.js';

/** What the apply needs for packed pools: where shared tors run, and where their proxies are recorded. */
export interface PackedApply {
  readonly sharedTors: SharedTorRuntime;
  readonly records: PackedProxyRecords;
  /** Renders and checks a shared tor's torrc (templates/shared-torrc.tmpl + tor --verify-config). */
  readonly sharedTorrcFor: (spec: SharedTorSpec) => Promise<string>;
  /** A packed proxy's controller entry (packedProxyOf with the node database's exits). */
  readonly entryOf: (spec: ProxySpec) => PackedProxy;
  readonly now: () => Date;
}

/** A change the shared tors' side of the apply carries out: its proxy is (or becomes) packed. */
export function isPackedChange(change: PlannedChange): boolean {
  return (change.action === 'create' || change.action === 'replace') && Boolean(change.after?.packing);
}

/**
 * Stops and removes the shared tors the plan deletes (their pool stopped packing, left the fleet or needs
 * fewer): before anything is created, so their SocksPorts are free. A duplicate keeps its files (the one
 * kept shares them). Failures are logged and left to the next pass, which sees them again.
 */
export async function removeSharedTors(plan: Plan, packed: PackedApply | undefined, log: Logger): Promise<void> {
  const deletions = plan.sharedTors.filter((change) => change.action === 'delete' && change.before);
  if (deletions.length === 0 || !packed) return;
  await forEachConcurrently(deletions, 4, async (change) => {
    const before = change.before;
    if (!before) return;
    try {
      await packed.sharedTors.removeSharedTor(before, { forget: change.reason !== 'duplicate' });
      log.info('shared tor removed', { sharedTor: change.tor, reason: change.reason, revision: plan.revision });
    } catch (error) {
      log.error('shared tor removal failed', { sharedTor: change.tor, error: summarizeError(error).message });
    }
  });
}

/**
 * Starts the shared tors the plan creates or replaces (torrc checked first, so a tor that would refuse it
 * never takes a running one down), then writes the record of every wanted shared tor: the whole list of
 * proxies it serves, which its controller takes after the pass. A proxy moving from a tor of its own is
 * removed from the runtime first. Every failure is one of its proxies' changes: a shared tor that does not
 * start fails every proxy it serves, unchanged ones included (none of them is served).
 */
export async function applyPacked(
  plan: Plan,
  packed: PackedApply | undefined,
  runtime: ProxyRuntime,
  signal: AbortSignal | undefined,
  log: Logger,
): Promise<{ done: PlannedChange[]; failures: ChangeFailure[]; created: ObservedProxy[] }> {
  const done: PlannedChange[] = [];
  const failures: ChangeFailure[] = [];
  const created: ObservedProxy[] = [];
  const wanted = plan.sharedTors.filter((change) => change.after);
  if (!packed) {
    const error = summarizeError(
      new TorfleetError('FLEET_INVALID', 'stalled', `the ${runtime.name} runtime cannot run packed pools`),
    );
    for (const change of plan.changes.filter(isPackedChange)) failures.push({ change, error });
    return { done, failures, created };
  }
  await forEachConcurrently(wanted, 4, async (torChange) => {
    const tor = torChange.tor;
    const proxies = plan.changes.filter((change) => change.after?.packing?.tor === tor);
    try {
      signal?.throwIfAborted();
      const observed = await startSharedTor(torChange, packed, plan.revision, log);
      // Proxies that had a tor of their own (their pool just started packing) free their ports first.
      for (const change of proxies) {
        if (isPackedChange(change) && change.before && !change.before.sharedTor) {
          await runtime.remove(change.before, { forget: true });
        }
      }
      const records = proxies.map((change) => recordOf(change, packed, plan.revision));
      const testingNetwork = torChange.after?.tor.testingNetwork ?? false;
      await packed.records.write(tor, { testingNetwork, proxies: records });
      proxies.forEach((change, index) => {
        const record = records[index];
        if (!isPackedChange(change) || !record) return;
        done.push(change);
        created.push(observedPackedProxy(record, observed));
        log.info('change applied', {
          proxy: change.proxy,
          action: change.action,
          reason: change.reason,
          sharedTor: tor,
          revision: plan.revision,
        });
      });
    } catch (error) {
      const summary = summarizeError(error);
      log.error('shared tor failed', {
        sharedTor: tor,
        code: summary.code,
        error: summary.message,
        revision: plan.revision,
      });
      const message = `its shared tor ${tor}: ${summary.message}`;
      for (const change of proxies) failures.push({ change, error: { ...summary, message } });
    }
  });
  return { done, failures, created };
}

/** The shared tor as it runs after this pass: started when the plan creates or replaces it, else as listed. */
async function startSharedTor(change: SharedTorChange, packed: PackedApply, revision: string, log: Logger) {
  const { after, before } = change;
  if (!after) throw new Error(`shared tor ${change.tor} is not wanted`);
  if (change.action === 'noop' && before) return before;
  const torrc = await packed.sharedTorrcFor(after);
  await packed.sharedTors.preflightSharedTor(after);
  if (before) await packed.sharedTors.removeSharedTor(before, { forget: false });
  const observed = await packed.sharedTors.createSharedTor(after, torrc, revision);
  log.info('shared tor started', { sharedTor: change.tor, action: change.action, reason: change.reason, revision });
  return observed;
}

/** What the record keeps of a wanted packed proxy: the spec applied now, or the one already running. */
function recordOf(change: PlannedChange, packed: PackedApply, revision: string): PackedProxyRecord {
  const spec = change.after;
  if (!spec) throw new Error(`change of ${change.proxy} has no spec`);
  const kept = change.action === 'noop' && change.before ? change.before : null;
  return {
    name: spec.name,
    pool: spec.pool,
    specHash: spec.specHash,
    revision: kept?.revision ?? revision,
    exitFingerprints: [...spec.exits.fingerprints],
    startedAt: kept?.startedAt ?? packed.now().toISOString(),
    proxy: packed.entryOf(spec),
  };
}
