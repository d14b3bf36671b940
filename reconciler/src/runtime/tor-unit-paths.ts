import path from 'node:path';
import { TorfleetError } from '../errors.js';
import { LABEL } from './proxy-runtime.js';
import { SHARED_TOR_LABEL } from './shared-tor-runtime.js';

/** A pool name (the fleet schema's `^[a-z][a-z0-9-]{0,30}$`). */
export const POOL_NAME = /^[a-z][a-z0-9-]{0,30}$/;
/** A proxy name: its pool's name and `-INDEX` (a pool holds at most 10000 proxies). */
export const PROXY_NAME = /^[a-z][a-z0-9-]{0,30}-(0|[1-9][0-9]{0,3})$/;
/** A shared tor's name (plan/shared-tor-name.ts): its pool's name and `-torK`; never a proxy name. */
export const SHARED_TOR_NAME = /^[a-z][a-z0-9-]{0,30}-tor(0|[1-9][0-9]{0,3})$/;

/** A kind of tor torfleet runs, each with its own directory of units under the state dir. */
export interface TorUnitKind {
  /** `<stateDir>/<directory>/<name>/`. */
  readonly directory: string;
  readonly namePattern: RegExp;
  /** For messages: `proxy`, `shared tor`. */
  readonly what: string;
  /** The name's shape, for messages. */
  readonly shape: string;
  /** The field naming the unit in log lines. */
  readonly logField: string;
  /** The label naming the unit on its container or process record. */
  readonly label: string;
}

export const PROXY_UNIT: TorUnitKind = {
  directory: 'proxies',
  namePattern: PROXY_NAME,
  what: 'proxy',
  shape: 'POOL-INDEX',
  logField: 'proxy',
  label: LABEL.proxy,
};

export const SHARED_TOR_UNIT: TorUnitKind = {
  directory: 'shared-tors',
  namePattern: SHARED_TOR_NAME,
  what: 'shared tor',
  shape: 'POOL-torK',
  logField: 'sharedTor',
  label: SHARED_TOR_LABEL,
};

/** Where one unit's files live on the host. */
export interface TorUnitPaths {
  readonly dir: string;
  readonly torrcFile: string;
  readonly dataDir: string;
  /** The process runtime's record of its tor (pid and labels). */
  readonly recordFile: string;
}

export type ProxyPaths = TorUnitPaths;

/**
 * The one mapping from a unit's name to host paths. Names come from labels and files anyone with Docker or
 * disk access can write, so the name must match its kind's pattern and the resolved directory must lie
 * inside `<stateDir>/<kind's directory>`; anything else is refused before a path is built (never rm -rf
 * outside it).
 */
export function torUnitPaths(stateDir: string, kind: TorUnitKind, name: string): TorUnitPaths {
  if (!kind.namePattern.test(name)) {
    throw new TorfleetError(
      'RUNTIME',
      'stalled',
      `refusing ${kind.what} name ${JSON.stringify(name)}: it is not a ${kind.what} name (${kind.shape}, lowercase letters, digits and hyphens); remove the object that carries it`,
    );
  }
  const root = path.resolve(stateDir, kind.directory);
  const dir = path.resolve(root, name);
  if (path.dirname(dir) !== root) {
    throw new TorfleetError('RUNTIME', 'stalled', `refusing ${kind.what} directory ${dir}: it is outside ${root}`);
  }
  return {
    dir,
    torrcFile: path.join(dir, 'torrc'),
    dataDir: path.join(dir, 'data'),
    recordFile: path.join(dir, 'process.json'),
  };
}

export function proxyPaths(stateDir: string, name: string): ProxyPaths {
  return torUnitPaths(stateDir, PROXY_UNIT, name);
}
