import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import type { NodeSource } from '../nodes/node-source.js';
import type { NodeStore } from '../nodes/node-store.js';
import { refreshNodes } from '../nodes/refresh-nodes.js';
import { untilAborted, type Runnable } from './runnable.js';

export interface NodeRefreshOptions {
  readonly source: NodeSource;
  readonly store: NodeStore;
  readonly now: () => Date;
  readonly maxAgeMs: number;
  readonly maxDrop: number;
  readonly intervalMs: number;
  /** A refresh stored new relays (not at start-up: the first pass reads them anyway). */
  readonly onUpdated: () => void;
}

/**
 * Keeps the node database fresh: ready after a refresh at start when the stored relays are stale (so the
 * first pass plans on fresh data), then one every interval. A failed refresh keeps the database as it is.
 */
export function nodeRefreshRunnable(options: NodeRefreshOptions): Runnable {
  return {
    name: 'node-refresh',
    async run({ signal, ready, log }) {
      let refreshing = false;
      const refresh = async (notify: boolean): Promise<void> => {
        if (refreshing) return;
        refreshing = true;
        try {
          const outcome = await refreshNodes({
            source: options.source,
            store: options.store,
            now: options.now,
            log,
            maxDrop: options.maxDrop,
          });
          if (outcome.kind === 'updated' && notify) options.onUpdated();
        } catch (error) {
          log.warn('node refresh failed; keeping the node database as it is', { error: errorMessage(error) });
        } finally {
          refreshing = false;
        }
      };
      if (isStale(options, log)) await refresh(false);
      ready();
      const timer = setInterval(() => void refresh(true), options.intervalMs);
      await untilAborted(signal);
      clearInterval(timer);
    },
  };
}

/** An unreadable node database must not stop the service before its first pass: the pass reports it. */
function isStale(options: NodeRefreshOptions, log: Logger): boolean {
  try {
    return options.store.stats(options.now(), options.maxAgeMs).stale;
  } catch (error) {
    log.warn('cannot read the node database; refreshing it', { error: errorMessage(error) });
    return true;
  }
}
