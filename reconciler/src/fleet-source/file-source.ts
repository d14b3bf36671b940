import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { TorfleetError } from '../errors.js';
import { MAX_FLEET_BYTES } from '../fleet/load-fleet.js';
import type { FleetDocument, FleetSource } from './fleet-source.js';

/** A plain fleet file (TORFLEET_FLEET_FILE); its revision is a digest of its content. */
export function createFileSource(file: string): FleetSource {
  return {
    description: `file ${file}`,
    async read(): Promise<FleetDocument> {
      let text: string;
      try {
        const handle = await open(file, 'r');
        try {
          // One byte over the limit is enough for the loader to reject it with a located message.
          const buffer = Buffer.alloc(MAX_FLEET_BYTES + 1);
          const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
          text = buffer.subarray(0, bytesRead).toString('utf8');
        } finally {
          await handle.close();
        }
      } catch (error) {
        throw new TorfleetError('FLEET_UNREADABLE', 'stalled', `cannot read fleet file ${file}; check the path`, {
          cause: error,
        });
      }
      const digest = createHash('sha256').update(text).digest('hex').slice(0, 12);
      return { text, revision: `file:${digest}`, origin: file };
    },
  };
}
