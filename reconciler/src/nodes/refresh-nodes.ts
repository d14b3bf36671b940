import { errorMessage } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import type { NodeSource } from './node-source.js';
import type { NodeStore } from './node-store.js';

export type RefreshOutcome =
  | { readonly kind: 'updated'; readonly relays: number; readonly relaysPublished: Date }
  | { readonly kind: 'not_modified' };

export interface RefreshDependencies {
  readonly source: NodeSource;
  readonly store: NodeStore;
  readonly now?: () => Date;
  readonly log?: Logger;
}

/**
 * One refresh: fetch from the source (conditionally), then store the snapshot in one transaction.
 * A failure leaves every relay row as it was, is written to the refresh log, and is rethrown.
 */
export async function refreshNodes({
  source,
  store,
  now = () => new Date(),
  log = silentLogger,
}: RefreshDependencies): Promise<RefreshOutcome> {
  const started = now();
  try {
    const result = await source.fetch(store.checkpoint(source));
    if (result.kind === 'not_modified') {
      store.recordNotModified(source, started, now());
      log.info('node source not modified', { source: source.name, location: source.location });
      return { kind: 'not_modified' };
    }
    store.storeSnapshot(source, result.snapshot, result.lastModified, started, now());
    log.info('node database refreshed', {
      source: source.name,
      location: source.location,
      relays: result.snapshot.relays.length,
      relaysPublished: result.snapshot.relaysPublished.toISOString(),
    });
    return { kind: 'updated', relays: result.snapshot.relays.length, relaysPublished: result.snapshot.relaysPublished };
  } catch (error) {
    const message = errorMessage(error);
    try {
      store.recordFailure(source, started, now(), message);
    } catch (logError) {
      log.error('cannot record the failed refresh', { error: errorMessage(logError) });
    }
    log.error('node refresh failed', { source: source.name, location: source.location, error: message });
    throw error;
  }
}
