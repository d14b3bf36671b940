import { errorMessage } from '../errors.js';
import { FleetValidationError, formatIssue } from '../fleet/fleet-issue.js';
import type { Logger } from '../logger.js';
import type { FleetWatch } from '../service/fleet-watch-runnable.js';
import type { GatewayFleetReader } from './fleet-reader.js';
import type { GatewayInputs } from './gateway-inputs.js';

export interface FollowFleetOptions {
  /** Reads the source and parses a new revision (childProcessReader: in a child process, as `plan` reads). */
  readonly read: GatewayFleetReader;
  readonly inputs: GatewayInputs;
  readonly log: Logger;
}

export interface FleetFollower {
  load(first?: boolean): Promise<void>;
  /** What to watch for changes of the fleet, known once a load has read the source. */
  watch(): FleetWatch | undefined;
}

/**
 * `torfleet gateway`'s view of the fleet: `load` reads the source (as `plan` does) and sets the gateway
 * input; the first load throws what is wrong (the command exits 1), later ones keep the routes already
 * served and log why. Loads run one at a time; a load asked for meanwhile runs once after.
 */
export function followFleet(options: FollowFleetOptions): FleetFollower {
  const { read, inputs, log } = options;
  let revision: string | undefined;
  let watch: FleetWatch | undefined;
  let running: Promise<void> | undefined;
  const queued = { again: false };
  const takeAgain = (): boolean => {
    const again = queued.again;
    queued.again = false;
    return again;
  };
  const once = async (first: boolean): Promise<void> => {
    try {
      const found = await read(revision);
      watch = found.watch;
      if (!found.fleet || found.revision === revision) return;
      const { input, warnings, pools } = found.fleet;
      for (const warning of warnings) log.warn(`fleet warning: ${formatIssue(warning)}`);
      revision = found.revision;
      inputs.set(input);
      log.info('gateway routes from the fleet', { revision, pools });
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
  return { load, watch: () => watch };
}
