import { errorMessage, TorfleetError } from '../errors.js';
import type { ApiSource } from './api-source.js';
import { readNodeStats } from './node-answers.js';
import { proxiesNotReady, readyCounts } from './proxy-readiness.js';
import type { ProxyView } from './proxy-view.js';

/** Why GET /readyz answers 503, or null when torfleet is ready. */
export async function notReadyReason(source: ApiSource, views: () => Promise<ProxyView[]>): Promise<string | null> {
  if (source.status().passes.length === 0) return 'not ready: no reconcile pass has finished yet';
  const stats = readNodeStats(source);
  if (stats instanceof TorfleetError) return `not ready: ${stats.message}`;
  if (stats.stale) return 'not ready: the node database is stale; see GET /nodes';
  if (!source.networkEnabled?.()) return null;
  try {
    return proxiesNotReady(readyCounts(source.lastPlan(), await views()));
  } catch (failure) {
    return `not ready: cannot list the proxies: ${errorMessage(failure)}`;
  }
}
