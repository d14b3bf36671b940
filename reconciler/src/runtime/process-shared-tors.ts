import { TorfleetError } from '../errors.js';
import type { ObservedSharedTor } from '../plan/plan-types.js';
import type { SharedTorSpec } from '../plan/shared-tor-types.js';
import type { TorrcPaths } from '../torrc/render-torrc.js';
import { IgnoredObjects, type IgnoredObject } from './ignored-objects.js';
import { ProcessTorUnits, type ProcessTorUnitsOptions } from './process-tor-units.js';
import { invalidSharedTorLabel, mapSharedTor, refuseSharedTorRemoval, sharedTorLabels } from './shared-tor-labels.js';
import type { SharedTorRuntime } from './shared-tor-runtime.js';
import { SHARED_TOR_UNIT } from './tor-unit-paths.js';

/**
 * The shared tors of packed pools as tor processes, each run and adopted exactly as a proxy's tor is
 * (process-tor-units.ts), from `<stateDir>/shared-tors/<POOL-torK>/torrc` with its `process.json`.
 */
export class ProcessSharedTors implements SharedTorRuntime {
  private readonly units: ProcessTorUnits;
  private readonly skipped: IgnoredObjects;

  constructor(
    private readonly options: ProcessTorUnitsOptions,
    runtime: string,
  ) {
    this.units = new ProcessTorUnits(SHARED_TOR_UNIT, options);
    this.skipped = new IgnoredObjects(options.log, runtime);
  }

  async listSharedTors(): Promise<ObservedSharedTor[]> {
    const { units, ignored } = await this.units.list(invalidSharedTorLabel);
    this.skipped.record(ignored);
    return units.flatMap(
      ({ id, state, record }) => mapSharedTor({ Id: id, Labels: record.labels, State: state }) ?? [],
    );
  }

  /** What the latest listSharedTors() skipped. */
  ignored(): readonly IgnoredObject[] {
    return this.skipped.current();
  }

  sharedTorDataDirectory(name: string): string {
    return this.units.files.dataDir(name);
  }

  sharedTorrcPaths(spec: SharedTorSpec): TorrcPaths {
    return this.units.torrcPaths(spec.name, spec.tor.geoipFile);
  }

  preflightSharedTor(spec: SharedTorSpec): Promise<void> {
    return this.units.preflight(spec.name);
  }

  async createSharedTor(spec: SharedTorSpec, torrc: string, revision: string): Promise<ObservedSharedTor> {
    const labels = sharedTorLabels(spec, this.options.instance, revision);
    const { pid } = await this.units.launch(spec.name, torrc, labels);
    const observed = mapSharedTor({ Id: `process:${pid}`, Labels: labels, State: 'running' });
    if (!observed)
      throw new TorfleetError('RUNTIME', 'generic', `shared tor ${spec.name}: its process record is incomplete`);
    return observed;
  }

  async removeSharedTor(tor: ObservedSharedTor, { forget }: { forget: boolean }): Promise<void> {
    await this.units.remove(tor.name, forget, (labels) =>
      refuseSharedTorRemoval(labels, this.options.instance, tor.name),
    );
  }
}
