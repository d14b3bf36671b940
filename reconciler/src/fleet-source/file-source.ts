import { createHash } from 'node:crypto';
import { FleetValidationError } from '../fleet/fleet-issue.js';
import { MAX_FLEET_BYTES, readFleetFile } from '../fleet/load-fleet.js';
import type { FleetDocument, FleetSource } from './fleet-source.js';

/** A plain fleet file (TORFLEET_FLEET_FILE); its revision is a digest of its content. */
export function createFileSource(file: string): FleetSource {
  return {
    description: `file ${file}`,
    async read(): Promise<FleetDocument> {
      // A file over the limit stands for an over-long text, which the loader rejects with its located message.
      const text = await readFleetFile(file).catch((error: unknown) => {
        if (error instanceof FleetValidationError) return '#'.repeat(MAX_FLEET_BYTES + 1);
        throw error;
      });
      const digest = createHash('sha256').update(text).digest('hex').slice(0, 12);
      return { text, revision: `file:${digest}`, origin: file };
    },
  };
}
