import { accessSync, constants, readFileSync } from 'node:fs';
import path from 'node:path';
import { TorfleetError } from '../errors.js';
import type { Fleet, PoolSpec } from '../fleet/fleet-types.js';
import { packagePath } from '../package-root.js';
import { buildSpec } from '../plan/compute-plan.js';
import type { ProxyExits } from '../plan/plan-types.js';
import { rotatingCountries } from '../plan/pool-exits.js';
import { buildSharedTorSpec } from '../plan/shared-tor-spec.js';
import { renderSharedTorrc } from './render-shared-torrc.js';
import { renderTorrc, TorrcRenderError } from './render-torrc.js';
import { verifyTorrc, type VerifyOptions } from './verify-torrc.js';

/** A fingerprint of the right form for a pinned proxy's torrc: validate has no node database to pick from. */
const PLACEHOLDER_EXIT = 'F'.repeat(40);

export const SHARED_TEMPLATE_FILE = 'templates/shared-torrc.tmpl';

export interface FleetTorrcOptions extends VerifyOptions {
  /** The text of templates/shared-torrc.tmpl, for packed pools; read from the package when absent. */
  readonly sharedTemplate?: string;
}

export interface PoolTorrcProblem {
  readonly poolIndex: number;
  readonly message: string;
}

/**
 * What `validate` can learn from tor itself: the torrc of each pool's first proxy (the others differ
 * only in port and exit), rendered from the template and checked with `tor --verify-config`, one at
 * a time. Pinned pools get a placeholder exit; everything from the fleet file is as the reconciler
 * would render it. A packed pool's proxies have no torrc: its first shared tor's is checked instead
 * (the others differ only in name).
 */
export async function verifyFleetTorrcs(
  fleet: Fleet,
  template: string,
  options: FleetTorrcOptions = {},
): Promise<PoolTorrcProblem[]> {
  const problems: PoolTorrcProblem[] = [];
  let sharedTemplate = options.sharedTemplate;
  for (const [poolIndex, pool] of fleet.pools.entries()) {
    try {
      if (pool.packing) {
        sharedTemplate ??= readFileSync(packagePath(...SHARED_TEMPLATE_FILE.split('/')), 'utf8');
        const spec = buildSharedTorSpec(pool, 0, fleet.tor, 'validate', []);
        const torrc = renderSharedTorrc(sharedTemplate, spec, { dataDirectory: '/var/lib/tor' });
        await verifyTorrc(spec.name, torrc, { ...options, templateFile: SHARED_TEMPLATE_FILE });
        continue;
      }
      const spec = buildSpec(pool, 0, representativeExits(pool), fleet.tor, 'validate');
      const torrc = renderTorrc(template, spec, {
        dataDirectory: '/var/lib/tor',
        controlSocket: '/var/lib/tor/control',
        geoipFile: fleet.tor.geoipFile,
      });
      await verifyTorrc(spec.name, torrc, options);
    } catch (error) {
      if (!(error instanceof TorfleetError || error instanceof TorrcRenderError)) throw error;
      problems.push({ poolIndex, message: error.message });
    }
  }
  return problems;
}

function representativeExits(pool: PoolSpec): ProxyExits {
  if (pool.mode === 'rotating') {
    return { fingerprints: [], addresses: [], countries: rotatingCountries(pool.geo, pool.exclude), network: null };
  }
  return { fingerprints: [PLACEHOLDER_EXIT], addresses: ['192.0.2.1'], countries: [], network: null };
}

/** The first executable `name` on `searchPath` (a PATH value), or undefined. */
export function findExecutable(name: string, searchPath: string | undefined): string | undefined {
  for (const dir of (searchPath ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}
