import { TorfleetError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import type { ObservedProxy, ProxySpec } from '../plan/plan-types.js';
import type { TorrcPaths } from '../torrc/render-torrc.js';
import { IgnoredObjects, type IgnoredObject } from './ignored-objects.js';
import { invalidLabel } from './label-check.js';
import { mapContainer } from './map-container.js';
import { ProcessSharedTors } from './process-shared-tors.js';
import { ProcessTorUnits } from './process-tor-units.js';
import { watchTorProcesses } from './process-watch.js';
import { LABEL, proxyLabels, type ProxyRuntime, type RuntimeEvent } from './proxy-runtime.js';
import { PROXY_UNIT } from './tor-unit-paths.js';

export interface ProcessRuntimeOptions {
  readonly stateDir: string;
  readonly instance: string;
  readonly torBinary?: string;
  readonly log?: Logger;
  /** How long starting or stopping one tor may take (TORFLEET_RUNTIME_TIMEOUT). */
  readonly timeoutMs?: number;
  /** How often watch() looks for tors that exited (default 2 s). */
  readonly watchIntervalMs?: number;
}

/**
 * Proxies as tor processes started directly, for machines without a Docker engine (process-tor-units.ts:
 * detached, recorded in `process.json`, adopted by their torrc from /proc), and the shared tors of packed
 * pools beside them (`sharedTors`).
 */
export class ProcessRuntime implements ProxyRuntime {
  readonly name = 'process';
  readonly sharedTors: ProcessSharedTors;
  private readonly units: ProcessTorUnits;
  private readonly log: Logger;
  private readonly skipped: IgnoredObjects;

  constructor(private readonly options: ProcessRuntimeOptions) {
    this.log = options.log ?? silentLogger;
    const unitOptions = { ...options, log: this.log, timeoutMs: options.timeoutMs ?? 30_000 };
    this.units = new ProcessTorUnits(PROXY_UNIT, unitOptions);
    this.skipped = new IgnoredObjects(this.log, this.name);
    this.sharedTors = new ProcessSharedTors(unitOptions, this.name);
  }

  async list(): Promise<ObservedProxy[]> {
    const { units, ignored } = await this.units.list(invalidLabel);
    this.skipped.record(ignored);
    return units.flatMap(({ id, state, record }) => {
      const proxy = mapContainer({ Id: id, Labels: record.labels, State: state });
      return proxy ? [{ ...proxy, startedAt: record.startedAt }] : [];
    });
  }

  /** What the latest list() and listSharedTors() skipped. */
  ignored(): readonly IgnoredObject[] {
    return [...this.skipped.current(), ...this.sharedTors.ignored()];
  }

  hostDataDirectory(proxy: string): string {
    return this.units.files.dataDir(proxy);
  }

  torrcPaths(spec: ProxySpec): TorrcPaths {
    return this.units.torrcPaths(spec.name, spec.tor.geoipFile);
  }

  preflight(spec: ProxySpec): Promise<void> {
    return this.units.preflight(spec.name);
  }

  async create(spec: ProxySpec, torrc: string, revision: string): Promise<ObservedProxy> {
    const labels = proxyLabels(spec, this.options.instance, revision);
    const { pid, startedAt } = await this.units.launch(spec.name, torrc, labels);
    const observed = mapContainer({ Id: `process:${pid}`, Labels: labels, State: 'running' });
    if (!observed)
      throw new TorfleetError('RUNTIME', 'generic', `proxy ${spec.name}: its process record is incomplete`);
    return { ...observed, startedAt };
  }

  async remove(proxy: ObservedProxy, { forget }: { forget: boolean }): Promise<void> {
    await this.units.remove(proxy.name, forget, (labels) =>
      labels[LABEL.managed] !== 'true' || labels[LABEL.proxy] !== proxy.name
        ? `its process.json is not labelled ${LABEL.managed}=true and ${LABEL.proxy}=${proxy.name}`
        : undefined,
    );
  }

  /** A proxy or shared tor whose tor ran at the last look (every couple of seconds) and has exited: `exited`. */
  watch(onEvent: (event: RuntimeEvent) => void): () => void {
    return watchTorProcesses(
      this.options.stateDir,
      this.options.instance,
      onEvent,
      this.log,
      this.options.watchIntervalMs,
    );
  }
}
