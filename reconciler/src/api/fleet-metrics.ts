import { Gauge, type Registry } from 'prom-client';
import { GEO_CATEGORIES } from '../fleet/fleet-types.js';
import { geoCategoryOf } from '../fleet/geo-match.js';
import type { Plan, PlanAction } from '../plan/plan-types.js';
import type { ApiSource } from './api-source.js';
import { unlessThrowing } from './scrape-reads.js';

const ACTIONS: readonly PlanAction[] = ['create', 'replace', 'delete', 'noop'];

/**
 * What the fleet asks for and what it draws on, read at each scrape: desired proxies, exit nodes and the
 * node database's times, the last plan and revision, quarantined exits, a refused snapshot, ignored objects.
 */
export function registerFleetGauges(registry: Registry, source: ApiSource): void {
  const registers = [registry];
  new Gauge({
    name: 'torfleet_desired_proxies',
    help: 'Proxies the fleet file asks for, by geo category.',
    labelNames: ['geo_category'],
    registers,
    collect() {
      const pools = source.fleetPools();
      for (const category of GEO_CATEGORIES) {
        this.set(
          { geo_category: category },
          pools.filter((p) => geoCategoryOf(p.geo) === category).reduce((n, p) => n + p.count, 0),
        );
      }
    },
  });
  new Gauge({
    name: 'torfleet_available_tor_exit_nodes',
    help: 'Eligible exit relays (running, Exit, not BadExit) in the node database, by geo category.',
    labelNames: ['geo_category'],
    registers,
    collect() {
      const stats = unlessThrowing(() => source.nodeStats());
      if (!stats) return;
      for (const category of GEO_CATEGORIES) this.set({ geo_category: category }, stats.exits[category]);
    },
  });
  // ISO times of the node database as Unix seconds; 0 before the first refresh.
  const timestamp = (name: string, help: string, read: () => string | null): void => {
    new Gauge({
      name,
      help,
      registers,
      collect() {
        const at = unlessThrowing(read);
        if (at === undefined) return;
        this.set(at ? Date.parse(at) / 1000 : 0);
      },
    });
  };
  timestamp(
    'torfleet_node_refresh_timestamp_seconds',
    'Unix time of the last successful node refresh (or not-modified check); 0 before the first.',
    () => source.nodeStats().refreshedAt,
  );
  timestamp(
    'torfleet_nodes_relays_published_timestamp_seconds',
    "Unix time the node source published the stored relays (Onionoo relays_published, a consensus's valid-after).",
    () => source.nodeStats().relaysPublished,
  );
  new Gauge({
    name: 'torfleet_plan_changes',
    help: 'Changes in the last plan, by action.',
    labelNames: ['action'],
    registers,
    collect() {
      const plan: Plan | null = source.lastPlan();
      for (const action of ACTIONS)
        this.set({ action }, (plan?.changes ?? []).filter((c) => c.action === action).length);
    },
  });
  new Gauge({
    name: 'torfleet_fleet_info',
    help: 'Always 1, labelled with the last applied revision of the fleet.',
    labelNames: ['revision'],
    registers,
    collect() {
      this.reset();
      this.set({ revision: source.status().lastAppliedRevision ?? 'none' }, 1);
    },
  });
  new Gauge({
    name: 'torfleet_quarantined_exits',
    help: 'Exits set aside because proxies pinned to them failed their egress checks.',
    registers,
    collect() {
      this.set(source.quarantinedExits());
    },
  });
  new Gauge({
    name: 'torfleet_node_snapshot_refused',
    help: '1 while the last node snapshot was refused (older, future, empty or dropping too many exits); see GET /nodes.',
    registers,
    collect() {
      let refused = false;
      try {
        refused = source.nodeStats().lastRefusal !== undefined;
      } catch {
        // an unreadable node database is reported by /status and /readyz, not here
      }
      this.set(refused ? 1 : 0);
    },
  });
  new Gauge({
    name: 'torfleet_ignored_runtime_objects',
    help: 'Containers or process records with invalid torfleet labels, ignored by the last runtime listing.',
    registers,
    collect() {
      this.set(source.ignoredObjects?.() ?? 0);
    },
  });
}
