import type { ObservedSharedTor } from '../plan/plan-types.js';
import type { SharedTorSpec } from '../plan/shared-tor-types.js';
import type { TorrcPaths } from '../torrc/render-torrc.js';

/** The label naming a shared tor (packed pools) on its container, process record or service; never `torfleet.proxy`. */
export const SHARED_TOR_LABEL = 'torfleet.shared-tor';

/**
 * Where the shared tors of packed pools run: the same kind of unit as a proxy's own tor (a container, a
 * process), with its own files under `<stateDir>/shared-tors/<name>/` (torrc, data directory with the
 * ControlSocket its controller talks to), labelled `torfleet.managed=true`, `torfleet.instance`,
 * `torfleet.pool`, `torfleet.shared-tor=<name>`, `torfleet.spec-hash`, `torfleet.revision`. A shared tor is never
 * listed as a proxy and a proxy never as a shared tor; only this instance's objects are touched.
 */
export interface SharedTorRuntime {
  /** Every shared tor torfleet manages here, in any state. */
  listSharedTors(): Promise<ObservedSharedTor[]>;
  /** Its tor data directory on this host: the controller connects to `<dir>/control` with `<dir>/control_auth_cookie`. */
  sharedTorDataDirectory(name: string): string;
  /** Paths as the shared tor will see them, for rendering its torrc. */
  sharedTorrcPaths(spec: SharedTorSpec): TorrcPaths;
  /** Checks what create needs (the image, the tor binary) without touching anything. */
  preflightSharedTor(spec: SharedTorSpec): Promise<void>;
  /** Creates and starts it with this torrc; its data directory is kept from any earlier instance. */
  createSharedTor(spec: SharedTorSpec, torrc: string, revision: string): Promise<ObservedSharedTor>;
  /** Stops and removes it; `forget` also deletes its files (its pool no longer needs it). */
  removeSharedTor(tor: ObservedSharedTor, options: { forget: boolean }): Promise<void>;
}
