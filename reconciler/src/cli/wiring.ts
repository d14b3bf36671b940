import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createApiServer } from '../api/api-server.js';
import { brokerFleetOf } from '../broker/broker-fleet.js';
import { createBrokerParts } from '../broker/broker-parts.js';
import { ConfigError } from '../errors.js';
import type { Fleet } from '../fleet/fleet-types.js';
import { createFleetSource } from '../fleet-source/create-fleet-source.js';
import { fleetWatchOf } from '../fleet-source/fleet-watch-of.js';
import type { Logger } from '../logger.js';
import type { ObservedProxy } from '../plan/plan-types.js';
import { createConsensusSource } from '../nodes/consensus-source.js';
import { openNodeDatabase } from '../nodes/node-db-file.js';
import type { NodeSource } from '../nodes/node-source.js';
import { NodeStore } from '../nodes/node-store.js';
import { createOnionooSource } from '../nodes/onionoo-source.js';
import { packagePath } from '../package-root.js';
import { diagnoseTor, remoteDiagnosis } from '../probe/egress-diagnosis.js';
import { EgressProber } from '../probe/egress-probe.js';
import { RESTART_WINDOW_MS } from '../probe/bootstrap-watchdog.js';
import { HealthMonitor } from '../probe/health-monitor.js';
import { HealthChecker, remoteTorWords } from '../probe/proxy-health.js';
import { createPackingParts } from '../packing/packing-parts.js';
import { torHealth } from '../tor-control/control-client.js';
import { GatewayInputs, gatewayInputOf } from '../gateway/gateway-inputs.js';
import { tableOf } from '../gateway/route-table.js';
import type { RouteTable } from '../gateway/route-types.js';
import { GatewayThread } from '../gateway/gateway-thread.js';
import { UnusableProxies } from '../gateway/unusable-proxies.js';
import { Controller } from '../reconcile/controller.js';
import { reconcilePass, type PassDependencies } from '../reconcile/reconcile-pass.js';
import { ProxyLocations } from '../runtime/proxy-address.js';
import type { ProxyRuntime } from '../runtime/proxy-runtime.js';
import { PackedProxyRecords } from '../runtime/packed-proxy-records.js';
import { PackedProxyRuntime } from '../runtime/packed-proxy-runtime.js';
import { RUNTIMES } from '../runtime/runtime-registry.js';
import { apiRunnable } from '../service/api-runnable.js';
import { controllerRunnable } from '../service/controller-runnable.js';
import { egressProbeRunnable } from '../service/egress-probe-runnable.js';
import { fleetWatchRunnable } from '../service/fleet-watch-runnable.js';
import { gatewayRunnable } from '../service/gateway-runnable.js';
import { healthMonitorRunnable } from '../service/health-monitor-runnable.js';
import { brokerRunnable } from '../service/broker-runnable.js';
import { contentRunnable } from '../service/content-runnable.js';
import { ContentServiceParts } from '../torrent/content-service.js';
import { nodeRefreshRunnable } from '../service/node-refresh-runnable.js';
import { ticker, type Runnable } from '../service/runnable.js';
import { runtimeWatchRunnable } from '../service/runtime-watch-runnable.js';
import { Supervisor } from '../service/supervisor.js';
import type { Settings } from '../settings.js';
import type { CliContext } from './cli-context.js';

/** The one place where settings become real components, and `run`'s components become runnables. */

/** The runtime TORFLEET_RUNTIME names, from the registry. */
export function createRuntime(context: CliContext): ProxyRuntime {
  const { settings, log } = context;
  const stateDir = path.resolve(settings.stateDir);
  const runtime: ProxyRuntime = RUNTIMES[settings.runtime]({
    stateDir,
    instance: settings.instance,
    log,
    timeoutMs: settings.runtimeTimeoutMs,
  });
  // Packed pools' proxies are listed with the rest wherever shared tors can run (docker, process).
  const { sharedTors } = runtime;
  return sharedTors ? new PackedProxyRuntime(runtime, sharedTors, new PackedProxyRecords(stateDir), log) : runtime;
}

/** The node source the settings name. The consensus source needs both a consensus and a GeoIP file. */
export function createNodeSource(settings: Settings, log: Logger): NodeSource {
  if (settings.nodeSource === 'onionoo') return createOnionooSource(settings.onionooUrl, { log });
  if (!settings.consensusUrl || !settings.geoipFile) {
    throw new ConfigError(
      'TORFLEET_NODE_SOURCE=consensus needs TORFLEET_CONSENSUS_URL (a directory port URL such as http://127.0.0.1:7000/tor/status-vote/current/consensus, or a file) and TORFLEET_GEOIP_FILE (a Tor geoip file)',
    );
  }
  return createConsensusSource(settings.consensusUrl, settings.geoipFile, { log });
}

/** Everything a reconcile pass needs; the caller closes `store`. */
export function passDependencies(context: CliContext): PassDependencies & { store: NodeStore } {
  const template = readFileSync(packagePath('templates', 'torrc.tmpl'), 'utf8');
  const sharedTemplate = readFileSync(packagePath('templates', 'shared-torrc.tmpl'), 'utf8');
  const source = createFleetSource(context.settings);
  const runtime = createRuntime(context);
  const store = NodeStore.open(context.settings.db, { log: context.log });
  return { source, runtime, store, template, sharedTemplate, env: context.env, log: context.log };
}

/** `torfleet run`: its supervisor over its runnables, in start order; `close` after the supervisor ends. */
export interface RunServices {
  readonly supervisor: Supervisor;
  readonly description: Readonly<Record<string, string>>;
  close(): void;
}

/**
 * `run`'s runnables, started in this order and stopped in reverse: the API (ready once listening), the
 * node refresh (ready after a start-up refresh of stale data), the controller (first pass), then the
 * triggers that enqueue passes: resync, egress probe, fleet watch, runtime watch.
 */
export function runServices(context: CliContext): RunServices {
  const { settings, log } = context;
  const nodeSource = createNodeSource(settings, log);
  const base = passDependencies(context);
  const { runtime, store } = base;
  let fleet: Fleet | undefined;
  // Packed pools (docker, process): a controller per running shared tor, their metrics in a registry of their own.
  const packing = runtime instanceof PackedProxyRuntime ? createPackingParts(runtime) : null;
  // Where proxies on other swarm nodes run, from every runtime listing below: the prober, the gateway and the broker dial them there.
  const locations = new ProxyLocations();
  const listed = (observed: readonly ObservedProxy[]): void => {
    if (locations.update(observed)) publishFleetViews();
  };
  const prober = new EgressProber({
    url: settings.probeUrl,
    timeoutMs: settings.probeTimeoutMs,
    intervalMs: settings.probeIntervalMs,
    failuresToQuarantine: 2,
    quarantineMs: 30 * 60_000,
    diagnose: (spec) => {
      const at = locations.nodeAddress(spec.name);
      if (at) return Promise.resolve(remoteDiagnosis(remoteTorWords(locations.nodeName(spec.name) ?? at, at)));
      return spec.packing && packing
        ? packing.diagnose(spec.name, spec.packing.tor)
        : diagnoseTor(runtime.hostDataDirectory(spec.name));
    },
    nodeAddress: (proxy) => locations.nodeAddress(proxy),
    now: context.now,
  });
  // The broker (TORFLEET_BROKER_TOKENS_FILE): leases in the same database file, over a connection of its own.
  const broker = settings.broker && {
    settings: settings.broker,
    db: openNodeDatabase(settings.db, () => new Date(context.now()), log).db,
  };
  const brokerParts =
    broker &&
    createBrokerParts({
      db: broker.db,
      leaseTtlSeconds: broker.settings.leaseTtlSeconds,
      fallback: broker.settings.fallback,
      log,
      now: () => context.now().getTime(),
      onRepin: (proxy) => {
        enqueue(`broker: clients keep failing through ${proxy}; re-pinning it`);
      },
    });
  // Content jobs (TORFLEET_TORRENT_SECRET): jobs in the same database file, fetched through gateway routes.
  const content = settings.torrent && {
    settings: settings.torrent,
    parts: new ContentServiceParts(openNodeDatabase(settings.db, () => new Date(context.now()), log).db),
  };
  let routes: RouteTable | null = null;
  let unusableNow: ReadonlySet<string> = new Set();
  const avoidedExits = (): ReadonlySet<string> => {
    const quarantined = prober.quarantined();
    return brokerParts ? new Set([...quarantined, ...brokerParts.repin.avoided()]) : quarantined;
  };
  const deps: PassDependencies = { ...base, avoidedExits };
  const networkEnabled = (): boolean => fleet?.tor.disableNetwork === false;
  // Health of every running proxy through its ControlSocket; stuck bootstraps restarted (network enabled only).
  const health = new HealthMonitor({
    runtime,
    checker: new HealthChecker({
      read: (proxy, sharedTor) =>
        torHealth(sharedTor && packing ? packing.sharedTorDirectory(sharedTor) : runtime.hostDataDirectory(proxy)),
      circuit: (proxy) => packing?.tors.status(proxy) ?? null,
      now: context.now,
    }),
    networkEnabled,
    policy: {
      stuckAfterMs: settings.bootstrapTimeoutMs,
      maxRestarts: settings.bootstrapRestartsPerHour,
      windowMs: RESTART_WINDOW_MS,
    },
    intervalMs: settings.healthIntervalMs,
    onListed: listed,
    onRestart: () => {
      enqueue('proxy restarted: bootstrap stuck');
    },
    onRestartCounted: (reason) => {
      api.metrics.observeRestart(reason);
    },
    log,
    now: context.now,
  });
  // The API and the metrics read the controller and the supervisor lazily, once they serve requests.
  const api = createApiServer({
    source: {
      status: () => controller.getStatus(),
      lastPlan: () => controller.lastPlan(),
      fleetPools: () => fleet?.pools ?? [],
      observed: () => runtime.list(),
      nodeStats: () => store.stats(context.now(), settings.nodesMaxAgeMs),
      egress: (proxy) => prober.check(proxy),
      health: (proxy, instance) => health.health(proxy, instance),
      networkEnabled,
      outOfRestartBudget: () => health.outOfBudget().length,
      quarantinedExits: () => prober.quarantined().size,
      ignoredObjects: () => runtime.ignored().length,
      liveness: () => controller.liveness(),
      runnables: () => supervisor.view(),
      extraMetrics: async () =>
        (await gateway.metricsText()) +
        ((await brokerParts?.metrics.registry.metrics()) ?? '') +
        ((await content?.parts.metrics.registry.metrics()) ?? '') +
        ((await packing?.registry.metrics()) ?? ''),
    },
    token: settings.apiToken ?? undefined,
    log,
  });
  const controller = new Controller({
    pass: async (onRevision, signal) => {
      const done = await reconcilePass(deps, onRevision, signal);
      fleet = done.fleet;
      packing?.tors.sync(); // the apply rewrote the shared tors' records
      publishFleetViews(done.plan);
      unusable.refresh(true);
      return done;
    },
    log,
    passTimeoutMs: settings.passTimeoutMs,
    // Passes are due at least every resync: no progress for three of them (or two deadlines) is not live.
    livenessBoundMs: Math.max(3 * settings.resyncIntervalMs, 2 * settings.passTimeoutMs),
    onPass: (record) => {
      api.metrics.observePass(record);
    },
  });
  // What the gateway, content jobs and the broker see of the fleet: after every pass, and when a proxy moves node.
  function publishFleetViews(plan = controller.lastPlan()): void {
    if (!fleet || !plan) return;
    const input = gatewayInputOf(fleet, plan, true, locations.all());
    gatewayInputs.set(fleet.gateway ? input : null);
    // The input's corporate is true here, as content fetches always go through the fleet's corporate hop.
    if (content) routes = tableOf(input);
    if (broker && brokerParts) {
      const pools = fleet.pools.map((pool) => pool.name);
      const { proxyHost } = broker.settings;
      brokerParts.service.setFleet(
        brokerFleetOf(plan, pools, fleet.broker.regions, proxyHost, (proxy) => locations.nodeAddress(proxy)),
      );
    }
  }
  const enqueue = (trigger: string): void => {
    controller.enqueue(trigger);
  };
  // The gateway (fleet.yaml `gateway:`) runs in a worker thread: reconcile work here never stalls a tunnel.
  const gatewayInputs = new GatewayInputs();
  const gateway = new GatewayThread({ level: settings.logLevel });
  const unusable = new UnusableProxies({
    running: async () => {
      const observed = await runtime.list();
      listed(observed);
      return observed.filter((proxy) => proxy.state === 'running').map((proxy) => proxy.name);
    },
    wanted: () => (controller.lastPlan()?.changes ?? []).flatMap((change) => (change.after ? [change.after.name] : [])),
    failing: (proxy) => prober.check(proxy)?.healthy === false,
    publish: (proxies) => {
      unusableNow = new Set(proxies);
      brokerParts?.service.setUnusable(unusableNow);
      return gatewayInputs.current() ? gateway.setUnusable(proxies) : Promise.resolve();
    },
    log,
  });
  const runnables: Runnable[] = [
    apiRunnable(api.server, settings.listen),
    ...(broker && brokerParts
      ? [
          brokerRunnable({
            settings: broker.settings,
            service: brokerParts.service,
            metrics: brokerParts.metrics,
            now: () => context.now().getTime(),
          }),
        ]
      : []),
    ...(content
      ? [
          contentRunnable(content.parts, {
            settings: content.settings,
            contentRoot: path.resolve(settings.stateDir, 'content'),
            routes: () => routes,
            health: { usable: (member) => member.kind !== 'tor' || !unusableNow.has(member.id) },
            now: () => context.now().getTime(),
            random: Math.random,
          }),
        ]
      : []),
    nodeRefreshRunnable({
      source: nodeSource,
      store,
      now: context.now,
      maxAgeMs: settings.nodesMaxAgeMs,
      maxDrop: settings.nodesMaxDrop,
      intervalMs: settings.nodesRefreshIntervalMs,
      onUpdated: () => {
        enqueue('nodes refreshed');
      },
    }),
    // Before the first pass: packed proxies are served from their records even while passes fail.
    ...(packing ? [packing.tors] : []),
    controllerRunnable(controller),
    ticker('resync', settings.resyncIntervalMs, () => {
      enqueue('resync');
    }),
    egressProbeRunnable({
      prober,
      runtime,
      lastPlan: () => controller.lastPlan(),
      fleet: () => fleet,
      onResult: (proxy, check) => {
        api.metrics.observeEgress(check.result);
        brokerParts?.service.egressCheck(proxy, check.result === 'ok', null);
        unusable.refresh(false);
      },
      onQuarantineChanged: () => {
        enqueue('egress check changed an exit quarantine');
      },
    }),
    healthMonitorRunnable(health),
    fleetWatchRunnable(fleetWatchOf(settings), enqueue),
    runtimeWatchRunnable(runtime, enqueue),
    gatewayRunnable({ host: gateway, feed: gatewayInputs, startFailure: 'retried' }),
  ];
  const supervisor = new Supervisor(runnables, { log });
  return {
    supervisor,
    description: {
      source: base.source.description,
      nodeSource: `${nodeSource.name} ${nodeSource.location}`,
      runtime: runtime.name,
      instance: settings.instance,
    },
    close: () => {
      store.close();
      broker?.db.close();
      content?.parts.close();
    },
  };
}
