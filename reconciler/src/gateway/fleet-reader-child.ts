/**
 * The child process of `torfleet gateway` that reads the fleet once (fleet-reader.ts): takes one ReadRequest
 * from its IPC channel, reads the source the settings name, parses the fleet unless its revision is the last
 * one, answers one ReadAnswer and exits, taking the sources, the YAML parser, ajv and the compiled schema
 * with it. Its environment is the gateway's (the fleet's `${VAR}`s come from it).
 */
import { parseFleet } from '../fleet/load-fleet.js';
import { createFileSource } from '../fleet-source/file-source.js';
import type { FleetSource } from '../fleet-source/fleet-source.js';
import { fleetWatchOf } from '../fleet-source/fleet-watch-of.js';
import type { Settings } from '../settings.js';
import { toWire } from './gateway-input.js';
import { gatewayInputOf } from './gateway-inputs.js';
import { toWireError, type ReadAnswer, type ReadRequest } from './fleet-reader.js';

if (!process.send) throw new Error('fleet-reader-child.js runs as a child process of torfleet gateway');

/**
 * The source the settings name (createFleetSource's choice). A plain file does not import create-fleet-source.js:
 * it imports simple-git, ~30-50 ms of this child's start, which is on the gateway's start path.
 */
async function sourceOf(settings: Settings): Promise<FleetSource> {
  if (settings.fleetFile) return createFileSource(settings.fleetFile);
  const { createFleetSource } = await import('../fleet-source/create-fleet-source.js');
  return createFleetSource(settings);
}

async function answer({ settings, corporate, lastRevision }: ReadRequest): Promise<ReadAnswer> {
  try {
    const source = await sourceOf(settings);
    const watch = fleetWatchOf(settings);
    const document = await source.read();
    if (document.revision === lastRevision) return { ok: true, revision: document.revision, watch };
    const { fleet, warnings } = parseFleet(document.origin, document.text, {
      env: process.env,
      geoipFile: 'if-readable',
    });
    const input = toWire(gatewayInputOf(fleet, null, corporate));
    return { ok: true, revision: document.revision, watch, fleet: { input, warnings, pools: fleet.pools.length } };
  } catch (error) {
    return { ok: false, error: toWireError(error) };
  }
}

process.once('message', (message) => {
  void answer(message as ReadRequest).then((reply) => {
    process.send?.(reply, () => {
      process.disconnect();
    });
  });
});
