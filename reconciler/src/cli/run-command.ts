import { parseArgs } from 'node:util';
import { createApiServer } from '../api/api-server.js';
import { ConfigError, errorMessage } from '../errors.js';
import type { Fleet } from '../fleet/fleet-types.js';
import { describeBootstrap, diagnoseTor } from '../probe/egress-diagnosis.js';
import { EgressProber } from '../probe/egress-probe.js';
import { RESTART_WINDOW_MS } from '../probe/bootstrap-watchdog.js';
import { HealthMonitor } from '../probe/health-monitor.js';
import { HealthChecker } from '../probe/proxy-health.js';
import { torHealth } from '../tor-control/control-client.js';
import { createNodeSource } from '../nodes/create-node-source.js';
import { refreshNodes } from '../nodes/refresh-nodes.js';
import { Controller, type PassFunction } from '../reconcile/controller.js';
import { reconcilePass } from '../reconcile/reconcile-pass.js';
import { every, watchDockerEvents, watchFile, watchLocalRepository, type Stop } from '../reconcile/triggers.js';
import type { CliContext, ExitCode } from './cli-context.js';
import { localRepository, passDependencies } from './wiring.js';

export const RUN_USAGE = 'torfleet run';

/**
 * `torfleet run`: the service. Refreshes the node database on a schedule, watches the fleet source and
 * the proxies' containers, and reconciles on every event and at least every resync interval. Runs until
 * SIGTERM or SIGINT, then finishes the current pass and exits 0; the proxies keep running.
 */
export async function runCommand(context: CliContext): Promise<ExitCode> {
  parseArgs({ args: [...context.args], options: {}, strict: true });
  const { settings, log } = context;
  let deps: ReturnType<typeof passDependencies> = passDependencies(context);
  let fleet: Fleet | undefined;
  const prober = new EgressProber({
    url: settings.probeUrl,
    timeoutMs: settings.probeTimeoutMs,
    intervalMs: settings.probeIntervalMs,
    failuresToQuarantine: 2,
    quarantineMs: 30 * 60_000,
    diagnose: (spec) => diagnoseTor(deps.runtime.hostDataDirectory(spec.name)),
    now: context.now,
  });
  deps = { ...deps, avoidedExits: () => prober.quarantined() };
  // Health of every running proxy through its ControlSocket; stuck bootstraps restarted (network enabled only).
  const health = new HealthMonitor({
    runtime: { list: () => deps.runtime.list(), remove: (proxy, options) => deps.runtime.remove(proxy, options) },
    checker: new HealthChecker({ read: (proxy) => torHealth(deps.runtime.hostDataDirectory(proxy)), now: context.now }),
    networkEnabled: () => fleet?.tor.disableNetwork === false,
    policy: {
      stuckAfterMs: settings.bootstrapTimeoutMs,
      maxRestarts: settings.bootstrapRestartsPerHour,
      windowMs: RESTART_WINDOW_MS,
    },
    intervalMs: settings.healthIntervalMs,
    onRestart: () => {
      controller.enqueue('proxy restarted: bootstrap stuck');
    },
    onRestartCounted: (reason) => {
      api.metrics.observeRestart(reason);
    },
    log,
    now: context.now,
  });
  const pass: PassFunction = async (onRevision, signal) => {
    const done = await reconcilePass(deps, onRevision, signal);
    fleet = done.fleet;
    return done;
  };
  // The API reads the controller lazily (only once it serves requests), and the controller feeds its metrics.
  const api = createApiServer({
    source: {
      status: () => controller.getStatus(),
      lastPlan: () => controller.lastPlan(),
      fleetPools: () => fleet?.pools ?? [],
      observed: () => deps.runtime.list(),
      nodeStats: () => deps.store.stats(context.now(), settings.nodesMaxAgeMs),
      egress: (proxy) => prober.check(proxy),
      health: (proxy, instance) => health.health(proxy, instance),
      networkEnabled: () => fleet?.tor.disableNetwork === false,
      outOfRestartBudget: () => health.outOfBudget().length,
      quarantinedExits: () => prober.quarantined().size,
      ignoredObjects: () => deps.runtime.ignored().length,
      liveness: () => controller.liveness(),
    },
    token: settings.apiToken ?? undefined,
    log,
  });
  const controller = new Controller({
    pass,
    log,
    passTimeoutMs: settings.passTimeoutMs,
    // Passes are due at least every resync: no progress for three of them (or two deadlines) is not live.
    livenessBoundMs: Math.max(3 * settings.resyncIntervalMs, 2 * settings.passTimeoutMs),
    onPass: (record) => {
      api.metrics.observePass(record);
    },
  });
  await new Promise<void>((resolve, reject) => {
    api.server.once('error', (error) => {
      reject(
        new ConfigError(
          `cannot listen on ${settings.listen.host}:${settings.listen.port} (TORFLEET_LISTEN): ${errorMessage(error)}`,
        ),
      );
    });
    api.server.listen(settings.listen.port, settings.listen.host, resolve);
  });
  log.info('api listening', { address: `${settings.listen.host}:${settings.listen.port}` });
  const nodeSource = createNodeSource(settings, log);
  const stops: Stop[] = [];

  // An unreadable node database must not stop the service before its first pass: the pass reports it.
  const nodesStale = (): boolean => {
    try {
      return deps.store.stats(context.now(), settings.nodesMaxAgeMs).stale;
    } catch (error) {
      log.warn('cannot read the node database; refreshing it', { error: errorMessage(error) });
      return true;
    }
  };

  let refreshing = false;
  const refresh = async (enqueue = true): Promise<void> => {
    if (refreshing) return;
    refreshing = true;
    try {
      const outcome = await refreshNodes({
        source: nodeSource,
        store: deps.store,
        now: context.now,
        log,
        maxDrop: settings.nodesMaxDrop,
      });
      if (outcome.kind === 'updated' && enqueue) controller.enqueue('nodes refreshed');
    } catch (error) {
      log.warn('node refresh failed; keeping the node database as it is', { error: errorMessage(error) });
    } finally {
      refreshing = false;
    }
  };

  log.info('torfleet starting', {
    source: deps.source.description,
    nodeSource: `${nodeSource.name} ${nodeSource.location}`,
    instance: settings.instance,
  });
  if (nodesStale()) await refresh(false);
  controller.enqueue('start');

  stops.push(every(settings.nodesRefreshIntervalMs, () => void refresh()));
  stops.push(
    every(settings.resyncIntervalMs, () => {
      controller.enqueue('resync');
    }),
  );
  // Egress checks through every running proxy (not with DisableNetwork: such proxies carry no traffic), each
  // when due: every probe interval, sooner (backoff) after a failure.
  let probing = false;
  stops.push(
    every(prober.tickMs, () => {
      const plan = controller.lastPlan();
      if (probing || !plan || fleet?.tor.disableNetwork !== false) return;
      probing = true;
      void deps.runtime
        .list()
        .then(async (observed) => {
          const running = new Set(observed.filter((p) => p.state === 'running').map((p) => p.name));
          const specs = plan.changes.flatMap((c) => (c.after && running.has(c.proxy) ? [c.after] : []));
          const { checked, quarantineChanged } = await prober.probe(specs);
          for (const { proxy, check } of checked) {
            api.metrics.observeEgress(check.result);
            if (check.result !== 'ok')
              log.warn('egress check', {
                proxy,
                result: check.result,
                message: check.message,
                consecutiveFailures: check.consecutiveFailures,
                nextCheckAt: check.nextCheckAt,
                ...(check.diagnosis && {
                  bootstrap: describeBootstrap(check.diagnosis),
                  torLog: check.diagnosis.logTail,
                }),
              });
          }
          if (quarantineChanged) controller.enqueue('egress check changed an exit quarantine');
        })
        .catch((error: unknown) => {
          log.warn('egress checks failed', { error: errorMessage(error) });
        })
        .finally(() => {
          probing = false;
        });
    }),
  );
  health.start();
  stops.push(() => health.stop());
  if (settings.fleetFile) {
    stops.push(
      watchFile(settings.fleetFile, () => {
        controller.enqueue('fleet file changed');
      }),
    );
  } else {
    stops.push(
      every(settings.fetchIntervalMs, () => {
        controller.enqueue('fetch');
      }),
    );
    const local = localRepository(context);
    const watcher = local
      ? watchLocalRepository(local, () => {
          controller.enqueue('commit');
        })
      : undefined;
    if (watcher) stops.push(watcher);
  }
  stops.push(
    watchDockerEvents(
      deps.docker,
      settings.instance,
      (event) => {
        controller.enqueue(event);
      },
      log,
    ),
  );

  await new Promise<void>((resolve) => {
    const onSignal = (signal: string): void => {
      log.info('stopping: finishing the current pass; proxies keep running', { signal });
      resolve();
    };
    process.once('SIGTERM', () => {
      onSignal('SIGTERM');
    });
    process.once('SIGINT', () => {
      onSignal('SIGINT');
    });
  });
  for (const stop of stops) await stop();
  api.server.closeAllConnections();
  await new Promise<void>((resolve) =>
    api.server.close(() => {
      resolve();
    }),
  );
  await controller.stop();
  deps.store.close();
  log.info('torfleet stopped');
  return 0;
}
