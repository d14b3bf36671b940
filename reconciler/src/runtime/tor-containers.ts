import type Docker from 'dockerode';
import { errorMessage, TorfleetError } from '../errors.js';
import type { TorrcPaths } from '../torrc/render-torrc.js';
import { engineCall, requireImage, statusOf } from './docker-engine.js';
import { LABEL } from './proxy-runtime.js';
import type { TorUnitPaths } from './tor-unit-paths.js';

/** The image's tor user (templates/Dockerfile, templates/build-tor-image.sh): owner of every data directory. */
export const TOR_OWNER = { uid: 1000, gid: 1000 } as const;
const CONTAINER_DATA_DIR = '/var/lib/tor';
const CONTAINER_GEOIP = '/etc/torfleet/geoip';

/** Every tor unit's container (a proxy's or a shared tor's) is `torfleet-<its name>`; the two name sets never meet. */
export function containerName(unit: string): string {
  return `torfleet-${unit}`;
}

/** Paths as a tor in one of torfleet's containers sees them. */
export function containerTorrcPaths(geoipFile: string | null): TorrcPaths {
  return {
    dataDirectory: CONTAINER_DATA_DIR,
    controlSocket: `${CONTAINER_DATA_DIR}/control`,
    geoipFile: geoipFile ? CONTAINER_GEOIP : null,
  };
}

/** What one tor container is made of. */
export interface TorContainerInput {
  /** The proxy or shared tor it runs: the container is `torfleet-<unit>`. */
  readonly unit: string;
  readonly image: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly paths: TorUnitPaths;
  /** The fleet's GeoIP file on the host, or null for the image's own. */
  readonly geoipFile: string | null;
  readonly memoryLimitMb: number;
}

/**
 * Tor units as Docker containers, the same shape for a proxy's tor and a shared tor: host networking (the
 * SocksPorts bind on the host), restart unless stopped, a memory limit, an init process (tor as PID 1 ignores
 * SIGTERM), torrc and data directory bind-mounted from the host. Every engine call has a deadline.
 */
export class TorContainers {
  constructor(
    private readonly docker: Docker,
    private readonly timeoutMs: number,
  ) {}

  /** This instance's managed containers, proxies and shared tors alike (`extraLabels` narrows it). */
  listManaged(instance: string, extraLabels: readonly string[] = []): Promise<Docker.ContainerInfo[]> {
    return this.call('list containers', (abortSignal) =>
      this.docker.listContainers({
        all: true,
        filters: { label: [`${LABEL.managed}=true`, `${LABEL.instance}=${instance}`, ...extraLabels] },
        abortSignal,
      }),
    );
  }

  requireImage(image: string): Promise<void> {
    return requireImage((what, action) => this.call(what, action), this.docker, image);
  }

  /** Creates and starts the container (labels and unique name in one engine call); its inspect data once it runs. */
  async start(input: TorContainerInput): Promise<Docker.ContainerInspectInfo> {
    const binds = [`${input.paths.torrcFile}:/etc/tor/torrc:ro`, `${input.paths.dataDir}:${CONTAINER_DATA_DIR}`];
    if (input.geoipFile) binds.push(`${input.geoipFile}:${CONTAINER_GEOIP}:ro`);
    const name = containerName(input.unit);
    const container = await this.call(
      `create container ${name}`,
      (abortSignal) =>
        this.docker.createContainer({
          abortSignal,
          name,
          Image: input.image,
          Labels: { ...input.labels },
          StopTimeout: 5,
          HostConfig: {
            NetworkMode: 'host',
            RestartPolicy: { Name: 'unless-stopped' },
            Memory: input.memoryLimitMb * 1024 * 1024,
            Init: true,
            Binds: binds,
          },
        }),
      2,
    );
    await this.call(`start container ${name}`, (abortSignal) => container.start({ abortSignal }));
    return this.call(`inspect container ${name}`, (abortSignal) => container.inspect({ abortSignal }));
  }

  /**
   * Removes container `id` unless `refusal` finds a reason in its labels (then a RUNTIME_CONFLICT error naming
   * it); true when it was removed, false when it was already gone.
   */
  async remove(
    id: string,
    refusal: (labels: Readonly<Record<string, string>>) => string | undefined,
  ): Promise<boolean> {
    const container = this.docker.getContainer(id);
    let labels: Record<string, string> | undefined;
    try {
      labels = (await this.call(`inspect container ${id}`, (abortSignal) => container.inspect({ abortSignal }))).Config
        .Labels;
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
    }
    if (!labels) return false;
    const why = refusal(labels);
    if (why) throw new TorfleetError('RUNTIME_CONFLICT', 'stalled', `refusing to remove container ${id}: ${why}`);
    await this.call(`remove container ${id}`, (abortSignal) => container.remove({ force: true, abortSignal })).catch(
      (error: unknown) => {
        if (statusOf(error) !== 404) throw error;
      },
    );
    return true;
  }

  /** One engine call with a deadline; its failure a typed RUNTIME error (the Docker status code on `cause`). */
  private call<T>(what: string, action: (signal: AbortSignal) => Promise<T>, slowness = 1): Promise<T> {
    return engineCall(this.docker, this.timeoutMs * slowness, what, action, (w, e) => failure(w, e));
  }
}

function failure(what: string, error: unknown): TorfleetError {
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
