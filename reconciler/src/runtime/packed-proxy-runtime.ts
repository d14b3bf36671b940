import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ObservedProxy, ObservedSharedTor, ProxySpec } from '../plan/plan-types.js';
import type { TorrcPaths } from '../torrc/render-torrc.js';
import { observedPackedProxy, type PackedProxyRecords } from './packed-proxy-records.js';
import type { IgnoredObject, ProxyRuntime, RuntimeEvent } from './proxy-runtime.js';
import type { SharedTorRuntime } from './shared-tor-runtime.js';

/** What one listing saw: the proxies (packed ones included) and the shared tors serving the packed ones. */
export interface FullListing {
  readonly proxies: ObservedProxy[];
  readonly sharedTors: ObservedSharedTor[];
}

/**
 * A runtime that can run packed pools (docker, process), seen whole: `list()` also reports each packed proxy,
 * read from its shared tor's record (packed-proxy-records.ts), with that tor's id and state, so the planner,
 * the egress check, health and the API treat it like any proxy. A packed proxy is no runtime object: the apply
 * writes its shared tor's record (apply-packed.ts) and never creates, replaces or removes it here.
 */
export class PackedProxyRuntime implements ProxyRuntime {
  readonly name: ProxyRuntime['name'];
  readonly sharedTors: SharedTorRuntime;
  /** Shared tors whose record could not be read, with why (a warning each time the reason changes). */
  readonly #unreadable = new Map<string, string>();

  constructor(
    private readonly inner: ProxyRuntime,
    sharedTors: SharedTorRuntime,
    readonly records: PackedProxyRecords,
    private readonly log: Logger,
  ) {
    this.name = inner.name;
    this.sharedTors = sharedTors;
  }

  async list(): Promise<ObservedProxy[]> {
    return (await this.listAll()).proxies;
  }

  /** Proxies and shared tors from one listing of each. */
  async listAll(): Promise<FullListing> {
    const [proxies, sharedTors] = await Promise.all([this.inner.list(), this.sharedTors.listSharedTors()]);
    const packed: ObservedProxy[] = [];
    const seen = new Set<string>();
    for (const tor of sharedTors) {
      if (seen.has(tor.name)) continue; // a duplicate of one name (the plan deletes it) holds the same record
      seen.add(tor.name);
      packed.push(...(await this.packedOf(tor)));
    }
    return { proxies: [...proxies, ...packed], sharedTors };
  }

  private async packedOf(tor: ObservedSharedTor): Promise<ObservedProxy[]> {
    try {
      const file = await this.records.read(tor.name);
      this.#unreadable.delete(tor.name);
      return (file?.proxies ?? []).map((record) => observedPackedProxy(record, tor));
    } catch (error) {
      // Its proxies are then planned as new: the apply writes the record afresh.
      const why = errorMessage(error);
      if (this.#unreadable.get(tor.name) !== why)
        this.log.warn('packed proxies unreadable', { sharedTor: tor.name, error: why });
      this.#unreadable.set(tor.name, why);
      return [];
    }
  }

  ignored(): readonly IgnoredObject[] {
    return this.inner.ignored();
  }

  hostDataDirectory(proxy: string): string {
    return this.inner.hostDataDirectory(proxy);
  }

  torrcPaths(spec: ProxySpec): TorrcPaths {
    return this.inner.torrcPaths(refuseRuntimeCall(spec));
  }

  preflight(spec: ProxySpec): Promise<void> {
    return this.inner.preflight(refuseRuntimeCall(spec));
  }

  create(spec: ProxySpec, torrc: string, revision: string): Promise<ObservedProxy> {
    return this.inner.create(refuseRuntimeCall(spec), torrc, revision);
  }

  replace(before: ObservedProxy, spec: ProxySpec, torrc: string, revision: string): Promise<ObservedProxy> {
    refuseRuntimeCall(spec);
    if (this.inner.replace && !before.sharedTor) return this.inner.replace(before, spec, torrc, revision);
    return this.remove(before, { forget: false }).then(() => this.inner.create(spec, torrc, revision));
  }

  /** A packed proxy leaves by its record's rewrite (apply-packed.ts): nothing to remove here. */
  async remove(proxy: ObservedProxy, options: { forget: boolean }): Promise<void> {
    if (proxy.sharedTor) return;
    await this.inner.remove(proxy, options);
  }

  watch(onEvent: (event: RuntimeEvent) => void): () => Promise<void> | void {
    return this.inner.watch(onEvent);
  }
}

/** The apply never hands a packed proxy's spec to the runtime: a caller's bug, refused. */
function refuseRuntimeCall(spec: ProxySpec): ProxySpec {
  if (spec.packing) throw new Error(`proxy ${spec.name} is packed: its shared tor ${spec.packing.tor} serves it`);
  return spec;
}
