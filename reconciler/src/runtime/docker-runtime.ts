import type Docker from 'dockerode';
import { errorMessage, TorfleetError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import type { ObservedProxy, ProxySpec } from '../plan/plan-types.js';
import type { TorrcPaths } from '../torrc/render-torrc.js';
import { engineCall, requireImage, statusOf } from './docker-engine.js';
import { watchDockerEvents } from './docker-events.js';
import { IgnoredObjects, type IgnoredObject } from './ignored-objects.js';
import { invalidLabel } from './label-check.js';
import { mapContainer } from './map-container.js';
import { ProxyFiles } from './proxy-files.js';
import { LABEL, proxyLabels, type ProxyRuntime, type RuntimeEvent } from './proxy-runtime.js';

export interface DockerRuntimeOptions {
  /** Absolute host directory for torrc files and tor data directories. */
  readonly stateDir: string;
  /** This reconciler's name among those sharing the engine (label `torfleet.instance`). */
  readonly instance: string;
  readonly memoryLimitMb?: number;
  readonly log?: Logger;
  /** How long one engine call may take (TORFLEET_RUNTIME_TIMEOUT); creating a container gets twice as long. */
  readonly timeoutMs?: number;
}

/** The image's tor user (templates/Dockerfile, templates/build-tor-image.sh). */
const TOR_UID = 1000;
const CONTAINER_DATA_DIR = '/var/lib/tor';
const CONTAINER_GEOIP = '/etc/torfleet/geoip';

export function containerName(proxy: string): string {
  return `torfleet-${proxy}`;
}

/**
 * Proxies as Docker containers: host networking (the SocksPort binds on the host), restart unless
 * stopped, a memory limit, an init process (tor as PID 1 ignores SIGTERM), torrc and data directory
 * bind-mounted from the host. Only containers labelled `torfleet.managed=true` are ever listed or removed.
 */
export class DockerRuntime implements ProxyRuntime {
  readonly name = 'docker';
  private readonly files: ProxyFiles;
  private readonly log: Logger;
  private readonly skipped: IgnoredObjects;
  private readonly timeoutMs: number;

  constructor(
    private readonly docker: Docker,
    private readonly options: DockerRuntimeOptions,
  ) {
    this.files = new ProxyFiles(options.stateDir, { uid: TOR_UID, gid: TOR_UID });
    this.log = options.log ?? silentLogger;
    this.skipped = new IgnoredObjects(this.log, this.name);
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  async list(): Promise<ObservedProxy[]> {
    const containers = await this.call('list containers', (abortSignal) =>
      this.docker.listContainers({
        all: true,
        filters: { label: [`${LABEL.managed}=true`, `${LABEL.instance}=${this.options.instance}`] },
        abortSignal,
      }),
    );
    const ignored: IgnoredObject[] = [];
    const observed = containers.flatMap((container) => {
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

  ignored(): readonly IgnoredObject[] {
    return this.skipped.current();
  }

  hostDataDirectory(proxy: string): string {
    return this.files.dataDir(proxy);
  }

  torrcPaths(spec: ProxySpec): TorrcPaths {
    return {
      dataDirectory: CONTAINER_DATA_DIR,
      controlSocket: `${CONTAINER_DATA_DIR}/control`,
      geoipFile: spec.tor.geoipFile ? CONTAINER_GEOIP : null,
    };
  }

  preflight(spec: ProxySpec): Promise<void> {
    return this.requireImage(spec.tor.image);
  }

  async create(spec: ProxySpec, torrc: string, revision: string): Promise<ObservedProxy> {
    await this.requireImage(spec.tor.image);
    await this.files.prepare(spec.name, torrc);
    const binds = [
      `${this.files.torrcFile(spec.name)}:/etc/tor/torrc:ro`,
      `${this.files.dataDir(spec.name)}:${CONTAINER_DATA_DIR}`,
    ];
    if (spec.tor.geoipFile) binds.push(`${spec.tor.geoipFile}:${CONTAINER_GEOIP}:ro`);
    const name = containerName(spec.name);
    const container = await this.call(
      `create container ${name}`,
      (abortSignal) =>
        this.docker.createContainer({
          abortSignal,
          name,
          Image: spec.tor.image,
          Labels: proxyLabels(spec, this.options.instance, revision),
          StopTimeout: 5,
          HostConfig: {
            NetworkMode: 'host',
            RestartPolicy: { Name: 'unless-stopped' },
            Memory: (this.options.memoryLimitMb ?? 256) * 1024 * 1024,
            Init: true,
            Binds: binds,
          },
        }),
      2,
    );
    await this.call(`start container ${name}`, (abortSignal) => container.start({ abortSignal }));
    this.log.info('proxy container started', { proxy: spec.name, container: container.id, revision });
    const info = await this.call(`inspect container ${name}`, (abortSignal) => container.inspect({ abortSignal }));
    const observed = mapContainer({ Id: info.Id, Labels: info.Config.Labels, State: info.State.Status });
    if (!observed) throw new TorfleetError('RUNTIME', 'generic', `container ${name} lost its torfleet labels`);
    return { ...observed, startedAt: info.State.StartedAt };
  }

  async remove(proxy: ObservedProxy, { forget }: { forget: boolean }): Promise<void> {
    const container = this.docker.getContainer(proxy.id);
    let labels: Record<string, string> | undefined;
    try {
      labels = (await this.call(`inspect container ${proxy.id}`, (abortSignal) => container.inspect({ abortSignal })))
        .Config.Labels;
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
    }
    if (labels) {
      if (labels[LABEL.managed] !== 'true' || labels[LABEL.proxy] !== proxy.name) {
        throw new TorfleetError(
          'RUNTIME_CONFLICT',
          'stalled',
          `refusing to remove container ${proxy.id}: it is not labelled ${LABEL.managed}=true and ${LABEL.proxy}=${proxy.name}`,
        );
      }
      await this.call(`remove container ${proxy.id}`, (abortSignal) =>
        container.remove({ force: true, abortSignal }),
      ).catch((error: unknown) => {
        if (statusOf(error) !== 404) throw error;
      });
      this.log.info('proxy container removed', { proxy: proxy.name, container: proxy.id });
    }
    if (forget) await this.files.forget(proxy.name);
  }

  /** The engine's events of this instance's containers (die, destroy, kill, oom, stop), followed across engine restarts. */
  watch(onEvent: (event: RuntimeEvent) => void): () => void {
    return watchDockerEvents(this.docker, this.options.instance, onEvent, this.log);
  }

  private requireImage(image: string): Promise<void> {
    return requireImage((what, action) => this.call(what, action), this.docker, image);
  }

  /** One engine call with a deadline; its failure a typed RUNTIME error (the Docker status code on `cause`). */
  private call<T>(what: string, action: (signal: AbortSignal) => Promise<T>, slowness = 1): Promise<T> {
    return engineCall(this.docker, this.timeoutMs * slowness, what, action, (w, e) => this.failure(w, e));
  }

  private failure(what: string, error: unknown): TorfleetError {
    if (statusOf(error) === 409 && what.startsWith('create container')) {
      return new TorfleetError(
        'RUNTIME_CONFLICT',
        'stalled',
        `cannot ${what}: a container of that name already exists and torfleet did not make it (or it is being removed); rename or remove it`,
        { cause: error },
      );
    }
    return new TorfleetError('RUNTIME', 'waiting', `docker: cannot ${what}: ${errorMessage(error)}`, { cause: error });
  }
}
