import { TorfleetError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ObservedSharedTor } from '../plan/plan-types.js';
import type { SharedTorSpec } from '../plan/shared-tor-types.js';
import type { TorrcPaths } from '../torrc/render-torrc.js';
import { IgnoredObjects, type IgnoredObject } from './ignored-objects.js';
import { invalidSharedTorLabel, mapSharedTor, refuseSharedTorRemoval, sharedTorLabels } from './shared-tor-labels.js';
import { SHARED_TOR_LABEL, type SharedTorRuntime } from './shared-tor-runtime.js';
import { containerTorrcPaths, TOR_OWNER, type TorContainers } from './tor-containers.js';
import { TorUnitFiles } from './tor-unit-files.js';
import { SHARED_TOR_UNIT } from './tor-unit-paths.js';

/**
 * A shared tor serves up to 1000 proxies (issue 14): measured 26.4 MB VmRSS for 1000 circuits, plus its
 * directory, connection buffers and cell queues (bounded by the torrc's MaxMemInQueues, which tor enforces
 * itself by closing the circuits with the oldest queued cells). The container limit is only the backstop
 * against a leak: hitting it OOM-kills the tor and every proxy it serves at once, so it is set well above
 * what tor enforces, four times a proxy's 256 MB.
 */
export const SHARED_TOR_MEMORY_LIMIT_MB = 1024;

export interface DockerSharedTorsOptions {
  readonly stateDir: string;
  readonly instance: string;
  readonly sharedTorMemoryLimitMb?: number;
  readonly log: Logger;
}

/**
 * The shared tors of packed pools as Docker containers `torfleet-<POOL-torK>`, made like a proxy's
 * (tor-containers.ts: same image, host networking, restart policy, init), with their files under
 * `<stateDir>/shared-tors/<name>/` and the labels of sharedTorLabels.
 */
export class DockerSharedTors implements SharedTorRuntime {
  private readonly files: TorUnitFiles;
  private readonly skipped: IgnoredObjects;

  constructor(
    private readonly containers: TorContainers,
    private readonly options: DockerSharedTorsOptions,
    runtime: string,
  ) {
    this.files = new TorUnitFiles(options.stateDir, SHARED_TOR_UNIT, TOR_OWNER);
    this.skipped = new IgnoredObjects(options.log, runtime);
  }

  async listSharedTors(): Promise<ObservedSharedTor[]> {
    const containers = await this.containers.listManaged(this.options.instance, [SHARED_TOR_LABEL]);
    const ignored: IgnoredObject[] = [];
    const observed = containers.flatMap((container) => {
      // Anyone with access to the engine can create a container with torfleet's labels.
      const invalid = invalidSharedTorLabel(container.Labels);
      if (invalid) {
        ignored.push({ id: container.Id, reason: invalid });
        return [];
      }
      return mapSharedTor(container) ?? [];
    });
    this.skipped.record(ignored);
    return observed;
  }

  /** What the latest listSharedTors() skipped. */
  ignored(): readonly IgnoredObject[] {
    return this.skipped.current();
  }

  sharedTorDataDirectory(name: string): string {
    return this.files.dataDir(name);
  }

  sharedTorrcPaths(spec: SharedTorSpec): TorrcPaths {
    return containerTorrcPaths(spec.tor.geoipFile);
  }

  preflightSharedTor(spec: SharedTorSpec): Promise<void> {
    return this.containers.requireImage(spec.tor.image);
  }

  async createSharedTor(spec: SharedTorSpec, torrc: string, revision: string): Promise<ObservedSharedTor> {
    await this.containers.requireImage(spec.tor.image);
    await this.files.prepare(spec.name, torrc);
    const info = await this.containers.start({
      unit: spec.name,
      image: spec.tor.image,
      labels: sharedTorLabels(spec, this.options.instance, revision),
      paths: this.files.paths(spec.name),
      geoipFile: spec.tor.geoipFile,
      memoryLimitMb: this.options.sharedTorMemoryLimitMb ?? SHARED_TOR_MEMORY_LIMIT_MB,
    });
    this.options.log.info('shared tor container started', { sharedTor: spec.name, container: info.Id, revision });
    const observed = mapSharedTor({ Id: info.Id, Labels: info.Config.Labels, State: info.State.Status });
    if (!observed) throw new TorfleetError('RUNTIME', 'generic', `container ${info.Name} lost its torfleet labels`);
    return observed;
  }

  async removeSharedTor(tor: ObservedSharedTor, { forget }: { forget: boolean }): Promise<void> {
    const removed = await this.containers.remove(tor.id, (labels) =>
      refuseSharedTorRemoval(labels, this.options.instance, tor.name),
    );
    if (removed) this.options.log.info('shared tor container removed', { sharedTor: tor.name, container: tor.id });
    if (forget) await this.files.forget(tor.name);
  }
}
