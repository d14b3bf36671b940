import type Docker from 'dockerode';
import { TorfleetError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import type { ObservedProxy, ProxySpec } from '../plan/plan-types.js';
import type { TorrcPaths } from '../torrc/render-torrc.js';
import { watchDockerEvents } from './docker-events.js';
import { DockerSharedTors } from './docker-shared-tors.js';
import { IgnoredObjects, type IgnoredObject } from './ignored-objects.js';
import { invalidLabel } from './label-check.js';
import { mapContainer } from './map-container.js';
import { LABEL, proxyLabels, type ProxyRuntime, type RuntimeEvent } from './proxy-runtime.js';
import { isSharedTorObject } from './shared-tor-labels.js';
import { containerTorrcPaths, TorContainers, TOR_OWNER } from './tor-containers.js';
import { TorUnitFiles } from './tor-unit-files.js';
import { PROXY_UNIT } from './tor-unit-paths.js';

export { containerName } from './tor-containers.js';

export interface DockerRuntimeOptions {
  /** Absolute host directory for torrc files and tor data directories. */
  readonly stateDir: string;
  /** This reconciler's name among those sharing the engine (label `torfleet.instance`). */
  readonly instance: string;
  /** A proxy's container (one tor, one proxy): 256 MB unless set. */
  readonly memoryLimitMb?: number;
  /** A shared tor's container (up to 1000 proxies): SHARED_TOR_MEMORY_LIMIT_MB unless set. */
  readonly sharedTorMemoryLimitMb?: number;
  readonly log?: Logger;
  /** How long one engine call may take (TORFLEET_RUNTIME_TIMEOUT); creating a container gets twice as long. */
  readonly timeoutMs?: number;
}

/**
 * Proxies as Docker containers (tor-containers.ts: host networking, restart unless stopped, a memory limit,
 * an init process, torrc and data directory bind-mounted), and the shared tors of packed pools beside them
 * (`sharedTors`). Only containers labelled `torfleet.managed=true` of this instance are ever listed or removed.
 */
export class DockerRuntime implements ProxyRuntime {
  readonly name = 'docker';
  readonly sharedTors: DockerSharedTors;
  private readonly containers: TorContainers;
  private readonly files: TorUnitFiles;
  private readonly log: Logger;
  private readonly skipped: IgnoredObjects;

  constructor(
    private readonly docker: Docker,
    private readonly options: DockerRuntimeOptions,
  ) {
    this.containers = new TorContainers(docker, options.timeoutMs ?? 30_000);
    this.files = new TorUnitFiles(options.stateDir, PROXY_UNIT, TOR_OWNER);
    this.log = options.log ?? silentLogger;
    this.skipped = new IgnoredObjects(this.log, this.name);
    this.sharedTors = new DockerSharedTors(this.containers, { ...options, log: this.log }, this.name);
  }

  async list(): Promise<ObservedProxy[]> {
    const containers = await this.containers.listManaged(this.options.instance);
    const ignored: IgnoredObject[] = [];
    const observed = containers.flatMap((container) => {
      if (isSharedTorObject(container.Labels)) return []; // listSharedTors() lists (or reports) it
      // Anyone with access to the engine can create a container with torfleet's labels.
      const invalid = invalidLabel(container.Labels);
      if (invalid) {
        ignored.push({ id: container.Id, reason: invalid });
        return [];
      }
      return mapContainer(container) ?? [];
    });
    this.skipped.record(ignored);
    return observed;
  }

  /** What the latest list() and listSharedTors() skipped. */
  ignored(): readonly IgnoredObject[] {
    return [...this.skipped.current(), ...this.sharedTors.ignored()];
  }

  hostDataDirectory(proxy: string): string {
    return this.files.dataDir(proxy);
  }

  torrcPaths(spec: ProxySpec): TorrcPaths {
    return containerTorrcPaths(spec.tor.geoipFile);
  }

  preflight(spec: ProxySpec): Promise<void> {
    return this.containers.requireImage(spec.tor.image);
  }

  async create(spec: ProxySpec, torrc: string, revision: string): Promise<ObservedProxy> {
    await this.containers.requireImage(spec.tor.image);
    await this.files.prepare(spec.name, torrc);
    const info = await this.containers.start({
      unit: spec.name,
      image: spec.tor.image,
      labels: proxyLabels(spec, this.options.instance, revision),
      paths: this.files.paths(spec.name),
      geoipFile: spec.tor.geoipFile,
      memoryLimitMb: this.options.memoryLimitMb ?? 256,
    });
    this.log.info('proxy container started', { proxy: spec.name, container: info.Id, revision });
    const observed = mapContainer({ Id: info.Id, Labels: info.Config.Labels, State: info.State.Status });
    if (!observed) throw new TorfleetError('RUNTIME', 'generic', `container ${info.Name} lost its torfleet labels`);
    return { ...observed, startedAt: info.State.StartedAt };
  }

  async remove(proxy: ObservedProxy, { forget }: { forget: boolean }): Promise<void> {
    const removed = await this.containers.remove(proxy.id, (labels) =>
      labels[LABEL.managed] !== 'true' || labels[LABEL.proxy] !== proxy.name || isSharedTorObject(labels)
        ? `it is not labelled ${LABEL.managed}=true and ${LABEL.proxy}=${proxy.name}`
        : undefined,
    );
    if (removed) this.log.info('proxy container removed', { proxy: proxy.name, container: proxy.id });
    if (forget) await this.files.forget(proxy.name);
  }

  /**
   * The engine's events of this instance's containers (die, destroy, kill, oom, stop), proxies' and shared
   * tors' (those with `proxy: null`), followed across engine restarts.
   */
  watch(onEvent: (event: RuntimeEvent) => void): () => void {
    return watchDockerEvents(this.docker, this.options.instance, onEvent, this.log);
  }
}
