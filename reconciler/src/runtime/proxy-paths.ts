import path from 'node:path';
import { TorfleetError } from '../errors.js';

/** A pool name (the fleet schema's `^[a-z][a-z0-9-]{0,30}$`). */
export const POOL_NAME = /^[a-z][a-z0-9-]{0,30}$/;
/** A proxy name: its pool's name and `-INDEX` (a pool holds at most 10000 proxies). */
export const PROXY_NAME = /^[a-z][a-z0-9-]{0,30}-(0|[1-9][0-9]{0,3})$/;

/** Where one proxy's files live on the host. */
export interface ProxyPaths {
  readonly dir: string;
  readonly torrcFile: string;
  readonly dataDir: string;
  /** The process runtime's record of its tor (pid and labels). */
  readonly recordFile: string;
}

/**
 * The one mapping from a proxy name to host paths. Names come from labels and files anyone with Docker or
 * disk access can write, so the name must match the proxy-name pattern and the resolved directory must lie
 * inside `<stateDir>/proxies`; anything else is refused before a path is built (never rm -rf outside it).
 */
export function proxyPaths(stateDir: string, name: string): ProxyPaths {
  if (!PROXY_NAME.test(name)) {
    throw new TorfleetError(
      'RUNTIME',
      'stalled',
      `refusing proxy name ${JSON.stringify(name)}: it is not a proxy name (POOL-INDEX, lowercase letters, digits and hyphens); remove the object that carries it`,
    );
  }
  const root = path.resolve(stateDir, 'proxies');
  const dir = path.resolve(root, name);
  if (path.dirname(dir) !== root) {
    throw new TorfleetError('RUNTIME', 'stalled', `refusing proxy directory ${dir}: it is outside ${root}`);
  }
  return {
    dir,
    torrcFile: path.join(dir, 'torrc'),
    dataDir: path.join(dir, 'data'),
    recordFile: path.join(dir, 'process.json'),
  };
}
