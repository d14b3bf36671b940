import type { ObservedProxy, ProxySpec } from '../plan/plan-types.js';
import type { TorrcPaths } from '../torrc/render-torrc.js';
import type { IgnoredObject } from './ignored-objects.js';
import type { RuntimeName } from './runtime-names.js';
import type { SharedTorRuntime } from './shared-tor-runtime.js';

export type { IgnoredObject } from './ignored-objects.js';

/** Labels on every container torfleet creates; torfleet never touches one without `torfleet.managed=true`. */
export const LABEL = {
  managed: 'torfleet.managed',
  /** Which torfleet owns it (TORFLEET_INSTANCE): several reconcilers can share one engine without touching each other's proxies. */
  instance: 'torfleet.instance',
  pool: 'torfleet.pool',
  proxy: 'torfleet.proxy',
  specHash: 'torfleet.spec-hash',
  revision: 'torfleet.revision',
  /** Comma-separated exit fingerprints the proxy is pinned to: how stickiness survives a reconciler restart. */
  exits: 'torfleet.exits',
} as const;

/**
 * Something a runtime saw happen to one of this instance's proxies (a container died, a tor exited). Like
 * every trigger it only says "look again": the pass re-reads everything.
 */
export interface RuntimeEvent {
  /** The runtime's word for it: `die`, `destroy`, `exited` ... */
  readonly action: string;
  /** The proxy it concerns, when the runtime knows. */
  readonly proxy: string | null;
}

/** Where proxies run: Docker containers, or tor processes (one entry each in runtime-registry.ts). */
export interface ProxyRuntime {
  readonly name: RuntimeName;
  /** Every proxy torfleet manages here, in any state. */
  list(): Promise<ObservedProxy[]>;
  /**
   * What the latest list() skipped: objects with torfleet's labels (or a proxy directory's record) that are
   * invalid, such as a proxy name that is not POOL-INDEX. Never touched; each is logged once as a warning.
   */
  ignored(): readonly IgnoredObject[];
  /** The proxy's tor data directory on this host: its ControlSocket and cookie are there (see torHealth). */
  hostDataDirectory(proxy: string): string;
  /** Paths as tor will see them, for rendering the proxy's torrc. */
  torrcPaths(spec: ProxySpec): TorrcPaths;
  /** Checks what create needs and can be checked without touching anything (the image is here, ...). */
  preflight(spec: ProxySpec): Promise<void>;
  /** Creates and starts the proxy with this torrc. Its data directory is kept from any earlier instance. */
  create(spec: ProxySpec, torrc: string, revision: string): Promise<ObservedProxy>;
  /**
   * Moves a running proxy to a new spec in place, when the runtime can do better than remove + create (a
   * swarm service's rolling update keeps its id and rolls back a task that fails). Absent: the applier
   * removes the old proxy and creates the new one.
   */
  replace?(before: ObservedProxy, spec: ProxySpec, torrc: string, revision: string): Promise<ObservedProxy>;
  /**
   * The shared tors of packed pools (docker and process runtimes); absent: this runtime cannot run packed pools
   * (swarm: a controller needs the shared tor's ControlSocket on this host).
   */
  readonly sharedTors?: SharedTorRuntime;
  /** Stops and removes a proxy; `forget` also deletes its data directory (it left the fleet). */
  remove(proxy: ObservedProxy, options: { forget: boolean }): Promise<void>;
  /**
   * Reports events of this instance's proxies until the returned function is called; never throws for a
   * runtime that is away (it keeps trying and logs why).
   */
  watch(onEvent: (event: RuntimeEvent) => void): () => Promise<void> | void;
}

/** The labels of a proxy torfleet starts, whichever runtime runs it. */
export function proxyLabels(spec: ProxySpec, instance: string, revision: string): Record<string, string> {
  return {
    [LABEL.managed]: 'true',
    [LABEL.instance]: instance,
    [LABEL.pool]: spec.pool,
    [LABEL.proxy]: spec.name,
    [LABEL.specHash]: spec.specHash,
    [LABEL.revision]: revision,
    [LABEL.exits]: spec.exits.fingerprints.join(','),
  };
}
