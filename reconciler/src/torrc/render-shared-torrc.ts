import type { SharedTorSpec } from '../plan/shared-tor-types.js';
import { DEFAULT_TORRC_OPTIONS, type TorrcOptions } from './render-torrc.js';
import { Guard, renderTemplate } from './torrc-template.js';
import { maxMemInQueues, networkLines, PATH, POOL_NAME } from './torrc-values.js';

/** What a runtime decides about a shared tor's files: its data directory as tor sees it. */
export interface SharedTorrcPaths {
  /** Its ControlSocket is `<dataDirectory>/control` and the cookie `<dataDirectory>/control_auth_cookie`. */
  readonly dataDirectory: string;
}

/** `POOL-torK` (plan/shared-tor-name.ts). */
const SHARED_TOR_NAME = /^[a-z][a-z0-9-]{0,30}-tor[0-9]{1,5}$/;

/**
 * Renders a shared tor's torrc from templates/shared-torrc.tmpl's text (see renderTemplate). Pure. It holds no
 * proxy: no SocksPort (its controller sets them), no exit selection (its controller picks every path).
 */
export function renderSharedTorrc(
  template: string,
  spec: SharedTorSpec,
  paths: SharedTorrcPaths,
  options: TorrcOptions = DEFAULT_TORRC_OPTIONS,
): string {
  const guard = new Guard(spec.name);
  return renderTemplate(
    template,
    {
      tor: () => guard.check(spec.name, SHARED_TOR_NAME, 'shared tor name'),
      pool: () => guard.check(spec.pool, POOL_NAME, 'pool name'),
      dataDirectory: () => guard.check(paths.dataDirectory, PATH, 'data directory'),
      maxMemInQueues: () => maxMemInQueues(options.maxMemInQueuesMb),
      networkLines: () => networkLines(spec.tor, guard),
    },
    guard,
  );
}
