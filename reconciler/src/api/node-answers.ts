import { errorMessage, TorfleetError } from '../errors.js';
import type { NodeStats } from '../nodes/node-stats.js';
import type { ApiSource } from './api-source.js';

/** The body of GET /status: the controller's status, the node database's counts (or why not), liveness. */
export function statusBody(source: ApiSource): unknown {
  const status = source.status();
  const stats = readNodeStats(source);
  const nodes =
    stats instanceof TorfleetError
      ? { error: { code: 'node_db_unavailable', message: stats.message } }
      : nodesBody(stats);
  const liveness = source.liveness?.();
  return { ...status, nodes, ...(liveness ? { liveness } : {}) };
}

/** The node database's counts, or the typed error that says why they cannot be read. */
export function readNodeStats(source: ApiSource): NodeStats | TorfleetError {
  try {
    return source.nodeStats();
  } catch (failure) {
    return failure instanceof TorfleetError
      ? failure
      : new TorfleetError('NODE_DB', 'generic', `cannot read the node database: ${errorMessage(failure)}`, {
          cause: failure,
        });
  }
}

/** The body of GET /nodes (and the `nodes` of GET /status). */
export function nodesBody(stats: NodeStats): unknown {
  return {
    exits: stats.exits,
    relays: stats.relays,
    relays_published: stats.relaysPublished,
    refreshed_at: stats.refreshedAt,
    stale: stats.stale,
    ...(stats.lastRefusal
      ? {
          last_refusal: {
            at: stats.lastRefusal.at,
            reason: stats.lastRefusal.reason,
            message: stats.lastRefusal.message,
            relays_published: stats.lastRefusal.relaysPublished,
          },
        }
      : {}),
  };
}
