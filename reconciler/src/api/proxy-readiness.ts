import { GEO_CATEGORIES, type GeoCategory } from '../fleet/fleet-types.js';
import type { Plan } from '../plan/plan-types.js';
import { proxyReady, type ProxyView } from './proxy-view.js';

export type ReadyCounts = Readonly<Record<GeoCategory, { readonly wanted: number; readonly ready: number }>>;

/** The proxies the last plan wants and those ready (running, bootstrapped, egress ok), by geo category. Pure. */
export function readyCounts(plan: Plan | null, views: readonly ProxyView[]): ReadyCounts {
  const counts = { US: { wanted: 0, ready: 0 }, NON_US: { wanted: 0, ready: 0 } };
  const byName = new Map(views.map((view) => [view.name, view]));
  for (const change of plan?.changes ?? []) {
    if (!change.after) continue;
    const count = counts[change.after.geoCategory];
    count.wanted += 1;
    const view = byName.get(change.after.name);
    if (view && proxyReady(view)) count.ready += 1;
  }
  return counts;
}

/**
 * Why torfleet is not ready for traffic, or null: each geo category the fleet wants proxies in needs at
 * least one ready proxy (a client asking for that geo can be served). One failing proxy among several does
 * not make the service unready (it shows in its `health`/`egress` and in torfleet_proxies_ready); none
 * ready in a category does. Only asked when the fleet's tors use the network: with DisableNetwork no
 * proxy ever bootstraps or carries traffic, so their health cannot gate readiness.
 */
export function proxiesNotReady(counts: ReadyCounts): string | null {
  const missing = GEO_CATEGORIES.filter((category) => counts[category].wanted > 0 && counts[category].ready === 0);
  if (missing.length === 0) return null;
  const detail = missing.map((category) => `${category} 0 of ${counts[category].wanted}`).join(', ');
  return `not ready: no proxy is ready (bootstrapped and egress check ok) in ${detail}; see GET /proxies`;
}
