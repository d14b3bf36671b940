import { errorMessage } from '../errors.js';
import { FleetValidationError, formatIssue } from '../fleet/fleet-issue.js';
import { parseFleet } from '../fleet/load-fleet.js';
import type { FleetSource } from '../fleet-source/fleet-source.js';
import type { Logger } from '../logger.js';
import { gatewayInputOf, type GatewayInputs } from './gateway-inputs.js';

export interface FollowFleetOptions {
  readonly source: FleetSource;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly inputs: GatewayInputs;
  readonly corporate: boolean;
  readonly log: Logger;
}

/**
 * `torfleet gateway`'s view of the fleet: `load` reads the source (as `plan` does) and sets the gateway
 * input; the first load throws what is wrong (the command exits 1), later ones keep the routes already
 * served and log why. Loads run one at a time; a load asked for meanwhile runs once after.
 */
export function followFleet(options: FollowFleetOptions): { load(first?: boolean): Promise<void> } {
  const { source, env, inputs, corporate, log } = options;
  let revision: string | undefined;
  let running: Promise<void> | undefined;
  const queued = { again: false };
  const takeAgain = (): boolean => {
    const again = queued.again;
    queued.again = false;
    return again;
  };
  const once = async (first: boolean): Promise<void> => {
    try {
      const document = await source.read();
      if (document.revision === revision) return;
      const { fleet, warnings } = parseFleet(document.origin, document.text, { env, geoipFile: 'if-readable' });
      for (const warning of warnings) log.warn(`fleet warning: ${formatIssue(warning)}`);
      revision = document.revision;
      inputs.set(gatewayInputOf(fleet, null, corporate));
      log.info('gateway routes from the fleet', { revision, pools: fleet.pools.length });
    } catch (error) {
      if (first) throw error;
      const issues = error instanceof FleetValidationError ? error.issues.map(formatIssue) : [errorMessage(error)];
      log.error('the fleet cannot be used; the gateway keeps its routes', { issues });
    }
  };
  const load = async (first = false): Promise<void> => {
    if (running) {
      queued.again = true;
      return running;
    }
    running = (async () => {
      queued.again = false;
      await once(first);
      while (takeAgain()) await once(false);
    })().finally(() => {
      running = undefined;
    });
    return running;
  };
  return { load };
}
