import type Docker from 'dockerode';
import { ConfigError, errorMessage, TorfleetError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import type { ObservedProxy, ProxySpec } from '../plan/plan-types.js';
import type { TorrcPaths } from '../torrc/render-torrc.js';
import { engineAddress, engineCall, requireImage, statusOf } from './docker-engine.js';
import { IgnoredObjects, type IgnoredObject } from './ignored-objects.js';
import { invalidLabel } from './label-check.js';
import { mapSwarmService, type SwarmNode, type SwarmService, type SwarmTask } from './map-swarm-service.js';
import { proxyPaths } from './tor-unit-paths.js';
import { LABEL, type ProxyRuntime, type RuntimeEvent } from './proxy-runtime.js';
import { SwarmConfigs } from './swarm-configs.js';
import { watchSwarmEvents } from './swarm-events.js';
import { serviceName, swarmServiceSpec, TASK_DATA_DIR, TASK_GEOIP, volumeName } from './swarm-service-spec.js';
import { removeProxyVolume } from './swarm-volumes.js';

export interface SwarmRuntimeOptions {
  /** Unused by the swarm runtime (data lives in volumes); kept so every runtime is built alike. */
  readonly stateDir: string;
  /** This reconciler's name among those sharing the swarm (label `torfleet.instance`). */
  readonly instance: string;
  readonly memoryLimitMb?: number;
  readonly log?: Logger;
  /** How long one engine call may take (TORFLEET_RUNTIME_TIMEOUT); creating a service gets twice as long. */
  readonly timeoutMs?: number;
}

/**
 * Proxies as Docker Swarm services, through a manager's engine: one replica each on host networking, its
 * torrc a config named by spec hash, its data directory a named volume on the node that runs it (see
 * swarmServiceSpec). A proxy's state is its current task's (mapSwarmService). Only services, configs and
 * volumes labelled `torfleet.managed=true` with this instance are listed, changed or removed.
 */
export class SwarmRuntime implements ProxyRuntime {
  readonly name = 'swarm';
  private readonly log: Logger;
  private readonly skipped: IgnoredObjects;
  private readonly timeoutMs: number;
  private readonly configs: SwarmConfigs;
  /** The engine's data root, for the path of a volume on this host (learned from `docker info`). */
  private dockerRoot = '/var/lib/docker';
  private rootKnown = false;
  /** This engine's swarm node: a task there runs on this host, one elsewhere is dialled at its node's address. */
  private localNodeId: string | null = null;

  constructor(
    private readonly docker: Docker,
    private readonly options: SwarmRuntimeOptions,
  ) {
    this.log = options.log ?? silentLogger;
    this.skipped = new IgnoredObjects(this.log, this.name);
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.configs = new SwarmConfigs(docker, options.instance, (what, action) => this.call(what, action), this.log);
  }

  async list(): Promise<ObservedProxy[]> {
    if (!this.rootKnown) await this.requireManager();
    // All three at once: a pass's no-op cost is one swarm round trip, not three.
    const [services, tasks, nodes] = await Promise.all([
      this.call('list services', (abortSignal) =>
        this.docker.listServices({
          filters: { label: [`${LABEL.managed}=true`, `${LABEL.instance}=${this.options.instance}`] },
          abortSignal,
        }),
      ),
      this.call('list tasks', (abortSignal) => this.docker.listTasks({ abortSignal }) as Promise<SwarmTask[]>),
      this.call('list nodes', (abortSignal) => this.docker.listNodes({ abortSignal }) as Promise<SwarmNode[]>),
    ]);
    const ignored: IgnoredObject[] = [];
    const valid = services.filter((service) => {
      // Anyone with access to a manager can create a service with torfleet's labels.
      const invalid = invalidLabel(service.Spec?.Labels ?? {});
      if (invalid) ignored.push({ id: service.ID, reason: invalid });
      return !invalid;
    });
    this.skipped.record(ignored);
    return valid.flatMap((service) => mapSwarmService(service, tasks, nodes, this.localNodeId) ?? []);
  }

  ignored(): readonly IgnoredObject[] {
    return this.skipped.current();
  }

  /**
   * Where the proxy's volume is on this host: its ControlSocket for the health monitor when the task runs
   * here. A task on another node has its own volume there, which this host cannot read.
   */
  hostDataDirectory(proxy: string): string {
    proxyPaths('/', proxy); // refuses a name that is not a proxy name
    return `${this.dockerRoot}/volumes/${volumeName(proxy)}/_data`;
  }

  torrcPaths(spec: ProxySpec): TorrcPaths {
    return {
      dataDirectory: TASK_DATA_DIR,
      controlSocket: `${TASK_DATA_DIR}/control`,
      geoipFile: spec.tor.geoipFile ? TASK_GEOIP : null,
    };
  }

  async preflight(spec: ProxySpec): Promise<void> {
    await this.requireManager();
    await this.requireImage(spec.tor.image);
  }

  async create(spec: ProxySpec, torrc: string, revision: string): Promise<ObservedProxy> {
    await this.preflight(spec);
    const config = await this.configs.ensure(spec, torrc);
    const name = serviceName(spec.name);
    const body = swarmServiceSpec({
      spec,
      instance: this.options.instance,
      revision,
      config,
      memoryLimitMb: this.memoryMb(),
    });
    let created: { id?: string; ID?: string };
    try {
      created = await this.call(
        `create service ${name}`,
        (abortSignal): Promise<{ id?: string; ID?: string }> => this.docker.createService({ ...body, abortSignal }),
        2,
      );
    } catch (error) {
      // No service of torfleet's uses the proxy's configs (list() would have shown it): none is left behind.
      await this.configs.prune(spec.name, null);
      throw error;
    }
    const id = created.id ?? created.ID ?? '';
    this.log.info('proxy service created', { proxy: spec.name, service: id, config: config.name, revision });
    await this.configs.prune(spec.name, config.name);
    return this.observe(id, spec.name);
  }

  /**
   * Moves the proxy's service to the new spec in place: a new config, new labels, a new task (stop-first,
   * see swarmServiceSpec; Swarm rolls back a task that fails to start). The same spec makes a new task too
   * (ForceUpdate), which is how a failed task is replaced.
   */
  async replace(before: ObservedProxy, spec: ProxySpec, torrc: string, revision: string): Promise<ObservedProxy> {
    const current = await this.inspectOwn(before);
    if (!current) return this.create(spec, torrc, revision);
    const config = await this.configs.ensure(spec, torrc);
    const body = swarmServiceSpec({
      spec,
      instance: this.options.instance,
      revision,
      config,
      memoryLimitMb: this.memoryMb(),
      forceUpdate: (current.Spec?.TaskTemplate?.ForceUpdate ?? 0) + 1,
    });
    const service = this.docker.getService(current.ID);
    await this.call(
      `update service ${serviceName(spec.name)}`,
      (abortSignal) => service.update({ ...body, version: current.Version?.Index ?? 0, abortSignal }),
      2,
    );
    this.log.info('proxy service updated', { proxy: spec.name, service: current.ID, config: config.name, revision });
    await this.configs.prune(spec.name, config.name);
    return this.observe(current.ID, spec.name);
  }

  async remove(proxy: ObservedProxy, { forget }: { forget: boolean }): Promise<void> {
    const current = await this.inspectOwn(proxy);
    if (current) {
      await this.call(`remove service ${serviceName(proxy.name)}`, (abortSignal) =>
        this.docker.getService(current.ID).remove({ abortSignal }),
      ).catch((error: unknown) => {
        if (statusOf(error) !== 404) throw error;
      });
      this.log.info('proxy service removed', { proxy: proxy.name, service: current.ID });
    }
    await this.configs.prune(proxy.name, null);
    if (forget)
      await removeProxyVolume(
        this.docker,
        this.options.instance,
        proxy.name,
        (what, action) => this.call(what, action),
        this.log,
      );
  }

  /** Services of torfleet, node changes and this node's task containers, followed across engine restarts. */
  watch(onEvent: (event: RuntimeEvent) => void): () => void {
    return watchSwarmEvents(this.docker, this.options.instance, onEvent, this.log);
  }

  private memoryMb(): number {
    return this.options.memoryLimitMb ?? 256;
  }

  /** The service as it is now, if it is there; one without this proxy's labels is refused. */
  private async inspectOwn(proxy: ObservedProxy): Promise<Docker.Service | undefined> {
    let service: Docker.Service;
    try {
      service = (await this.call(`inspect service ${proxy.id}`, (abortSignal) =>
        this.docker.getService(proxy.id).inspect({ abortSignal }),
      )) as Docker.Service;
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
    const labels = service.Spec?.Labels ?? {};
    if (
      labels[LABEL.managed] !== 'true' ||
      labels[LABEL.instance] !== this.options.instance ||
      labels[LABEL.proxy] !== proxy.name
    ) {
      throw new TorfleetError(
        'RUNTIME_CONFLICT',
        'stalled',
        `refusing to change service ${proxy.id}: it is not labelled ${LABEL.managed}=true, ${LABEL.instance}=${this.options.instance} and ${LABEL.proxy}=${proxy.name}`,
      );
    }
    return service;
  }

  /** The proxy of a service just created or updated (its task may not exist yet: then `pending`). */
  private async observe(id: string, proxy: string): Promise<ObservedProxy> {
    // This service and its own tasks only: a pass creating 100 proxies must not list the whole swarm 100 times.
    const [service, tasks, nodes] = await Promise.all([
      this.call(`inspect service ${id}`, (abortSignal): Promise<SwarmService> =>
        this.docker.getService(id).inspect({ abortSignal }),
      ),
      this.call(
        `list tasks of ${serviceName(proxy)}`,
        (abortSignal) => this.docker.listTasks({ filters: { service: [id] }, abortSignal }) as Promise<SwarmTask[]>,
      ),
      this.call('list nodes', (abortSignal) => this.docker.listNodes({ abortSignal }) as Promise<SwarmNode[]>),
    ]);
    const observed = invalidLabel(service.Spec?.Labels ?? {})
      ? undefined
      : mapSwarmService(service, tasks, nodes, this.localNodeId);
    if (!observed)
      throw new TorfleetError('RUNTIME', 'generic', `service ${serviceName(proxy)} lost its torfleet labels`);
    return observed;
  }

  /** A swarm manager: the only kind of engine that can run services (and the root of its volumes). */
  private async requireManager(): Promise<void> {
    const info = (await this.call('docker info', (abortSignal) =>
      (this.docker.info as (options: { abortSignal: AbortSignal }) => Promise<unknown>).call(this.docker, {
        abortSignal,
      }),
    )) as {
      DockerRootDir?: string;
      Swarm?: { LocalNodeState?: string; ControlAvailable?: boolean; NodeID?: string };
    };
    if (info.DockerRootDir) this.dockerRoot = info.DockerRootDir;
    this.localNodeId = info.Swarm?.NodeID || null;
    this.rootKnown = true;
    const state = info.Swarm?.LocalNodeState ?? 'inactive';
    if (state !== 'active') {
      throw new ConfigError(
        `TORFLEET_RUNTIME=swarm needs a swarm: docker swarm init (or docker swarm join this engine as a manager); the engine at ${engineAddress(this.docker)} is in swarm state "${state}"`,
      );
    }
    if (info.Swarm?.ControlAvailable !== true) {
      throw new ConfigError(
        `TORFLEET_RUNTIME=swarm needs a swarm manager: the engine at ${engineAddress(this.docker)} is a worker; point DOCKER_HOST at a manager, or docker node promote this one`,
      );
    }
  }

  private requireImage(image: string): Promise<void> {
    return requireImage(
      (what, action) => this.call(what, action),
      this.docker,
      image,
      ', on every node that may run a proxy',
    );
  }

  /** One engine call with a deadline; its failure a typed error, the Docker status code kept on `cause`. */
  private call<T>(what: string, action: (signal: AbortSignal) => Promise<T>, slowness = 1): Promise<T> {
    return engineCall(this.docker, this.timeoutMs * slowness, what, action, (w, e) => this.failure(w, e));
  }

  private failure(what: string, error: unknown): TorfleetError {
    const status = statusOf(error);
    if (status === 503) {
      return new TorfleetError(
        'CONFIG_INVALID',
        'stalled',
        `TORFLEET_RUNTIME=swarm needs a swarm manager: cannot ${what}: ${errorMessage(error)} (docker swarm init, or point DOCKER_HOST at a manager)`,
        { cause: error },
      );
    }
    if (status === 409 && what.startsWith('create ')) {
      return new TorfleetError(
        'RUNTIME_CONFLICT',
        'stalled',
        `cannot ${what}: one of that name already exists and torfleet did not make it (or it is being removed); rename or remove it`,
        { cause: error },
      );
    }
    return new TorfleetError('RUNTIME', 'waiting', `docker: cannot ${what}: ${errorMessage(error)}`, { cause: error });
  }
}
