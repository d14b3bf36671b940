import { errorMessage } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import type { NodeSource } from './node-source.js';
import type { NodeStore } from './node-store.js';
import { decideSnapshot, MAX_FUTURE_SKEW_MS, summarizeSnapshot, type RefusalReason } from './snapshot-guard.js';

export type RefreshOutcome =
  | {
      readonly kind: 'updated';
      readonly relays: number;
      readonly relaysPublished: Date;
      /** The guard would have refused it for this reason; the operator accepted it. */
      readonly overridden?: RefusalReason;
    }
  | { readonly kind: 'not_modified' }
  /** The snapshot was not stored: the stored one stays. Logged, in the refresh log and in the store's stats. */
  | {
      readonly kind: 'refused';
      readonly reason: RefusalReason;
      readonly message: string;
      readonly relaysPublished: Date;
    };

export interface RefreshDependencies {
  readonly source: NodeSource;
  readonly store: NodeStore;
  readonly now?: () => Date;
  readonly log?: Logger;
  /** Largest share of a geo category's eligible exits one snapshot may remove (TORFLEET_NODES_MAX_DROP). */
  readonly maxDrop?: number;
  /** Store the snapshot even if the guard refuses it (`nodes refresh --accept-snapshot`). */
  readonly acceptSnapshot?: boolean;
}

export const DEFAULT_MAX_DROP = 0.5;

/**
 * One refresh: fetch from the source (conditionally), let the snapshot guard judge it against the stored one,
 * then store it in one transaction, or keep the stored one and record the refusal. A failure leaves every relay
 * row as it was, is written to the refresh log, and is rethrown.
 */
export async function refreshNodes({
  source,
  store,
  now = () => new Date(),
  log = silentLogger,
  maxDrop = DEFAULT_MAX_DROP,
  acceptSnapshot = false,
}: RefreshDependencies): Promise<RefreshOutcome> {
  const started = now();
  const where = { source: source.name, location: source.location };
  try {
    const result = await source.fetch(store.checkpoint(source));
    if (result.kind === 'not_modified') {
      store.recordNotModified(source, started, now());
      log.info('node source not modified', where);
      return { kind: 'not_modified' };
    }
    const { snapshot } = result;
    const incoming = summarizeSnapshot(snapshot);
    const decision = decideSnapshot(store.storedSnapshot(), incoming, now(), {
      maxDrop,
      maxFutureSkewMs: MAX_FUTURE_SKEW_MS,
      accept: acceptSnapshot,
    });
    if (decision.kind === 'unchanged') {
      store.recordNotModified(source, started, now());
      log.info('node source has nothing newer', { ...where, relaysPublished: snapshot.relaysPublished.toISOString() });
      return { kind: 'not_modified' };
    }
    if (decision.kind === 'refuse') {
      store.recordRefusal(source, started, now(), incoming, decision.reason, decision.message);
      log.error('node snapshot refused; keeping the stored one', {
        ...where,
        reason: decision.reason,
        error: decision.message,
        relaysPublished: snapshot.relaysPublished.toISOString(),
      });
      return {
        kind: 'refused',
        reason: decision.reason,
        message: decision.message,
        relaysPublished: snapshot.relaysPublished,
      };
    }
    store.storeSnapshot(source, snapshot, result.lastModified, started, now());
    const fields = {
      ...where,
      relays: snapshot.relays.length,
      exits: incoming.exits,
      relaysPublished: snapshot.relaysPublished.toISOString(),
    };
    if (decision.overridden === null) {
      log.info('node database refreshed', fields);
      return { kind: 'updated', relays: snapshot.relays.length, relaysPublished: snapshot.relaysPublished };
    }
    log.warn('node snapshot accepted by the operator although the guard refused it', {
      ...fields,
      reason: decision.overridden,
    });
    return {
      kind: 'updated',
      relays: snapshot.relays.length,
      relaysPublished: snapshot.relaysPublished,
      overridden: decision.overridden,
    };
  } catch (error) {
    const message = errorMessage(error);
    try {
      store.recordFailure(source, started, now(), message);
    } catch (logError) {
      log.error('cannot record the failed refresh', { error: errorMessage(logError) });
    }
    log.error('node refresh failed', { ...where, error: message });
    throw error;
  }
}
