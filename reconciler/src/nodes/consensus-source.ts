import { fileURLToPath } from 'node:url';
import { TorfleetError } from '../errors.js';
import { FileReadError, readRegularFile } from '../fs/read-regular-file.js';
import { fetchDocument, type FetchDocumentOptions } from '../http-client/fetch-document.js';
import { parseConsensus, type ConsensusEntry } from './consensus-parser.js';
import { MAX_GEOIP_BYTES, parseGeoIp, type GeoIpDatabase } from './geoip.js';
import type { NodeFetchResult, NodeSource, SourceCheckpoint } from './node-source.js';
import type { Relay } from './relay.js';

/** Largest consensus read (a full network-status consensus is ~2.5 MB for 6,000-7,000 relays). */
export const CONSENSUS_MAX_BYTES = 32 * 1024 * 1024;

export type ConsensusFetchOptions = Omit<FetchDocumentOptions, 'what' | 'headers'>;

/**
 * Relays from a Tor network-status consensus (a directory port's `/tor/status-vote/current/consensus`,
 * or a file) with countries from a Tor GeoIP file: no third party involved. A consensus whose
 * valid-after equals the last one stored is "not modified".
 */
export function createConsensusSource(
  consensusLocation: string,
  geoipFile: string,
  options: ConsensusFetchOptions = {},
): NodeSource {
  const isUrl = /^https?:\/\//i.test(consensusLocation);
  return {
    name: 'consensus',
    location: consensusLocation,
    async fetch(checkpoint: SourceCheckpoint): Promise<NodeFetchResult> {
      let text: string;
      let lastModified: string | null = null;
      if (isUrl) {
        const headers: Record<string, string> = {};
        if (checkpoint.lastModified) headers['if-modified-since'] = checkpoint.lastModified;
        const response = await fetchDocument(consensusLocation, {
          maxBytes: CONSENSUS_MAX_BYTES,
          ...options,
          what: 'consensus',
          headers,
        });
        if (response.status === 304) return { kind: 'not_modified' };
        text = response.body.toString('utf8');
        lastModified = response.lastModified ?? null;
      } else {
        text = await readLocalFile(consensusLocation, 'consensus file (TORFLEET_CONSENSUS_URL)', CONSENSUS_MAX_BYTES);
      }
      const consensus = parseConsensus(text, consensusLocation);
      if (checkpoint.relaysPublished?.getTime() === consensus.validAfter.getTime()) return { kind: 'not_modified' };
      const geoip = parseGeoIp(
        await readLocalFile(geoipFile, 'GeoIP file (TORFLEET_GEOIP_FILE)', MAX_GEOIP_BYTES),
        geoipFile,
      );
      const relays = consensus.entries.map((entry) => toRelay(entry, geoip, consensus.validAfter));
      return { kind: 'updated', snapshot: { relaysPublished: consensus.validAfter, relays }, lastModified };
    },
  };
}

function toRelay(entry: ConsensusEntry, geoip: GeoIpDatabase, validAfter: Date): Relay {
  return {
    fingerprint: entry.fingerprint,
    nickname: entry.nickname,
    orAddresses: [`${entry.address}:${entry.orPort}`, ...entry.extraOrAddresses],
    exitAddresses: [],
    country: geoip.countryOf(entry.address),
    asNumber: null,
    flags: entry.flags,
    running: entry.flags.includes('Running'),
    exitPolicySummary: entry.policy,
    firstSeen: null,
    lastSeen: validAfter.toISOString(),
  };
}

/** A local input file: a regular file of at most `maxBytes` (a FIFO, device or /proc path is refused unread). */
async function readLocalFile(location: string, what: string, maxBytes: number): Promise<string> {
  const file = location.startsWith('file://') ? fileURLToPath(location) : location;
  try {
    return (await readRegularFile(file, maxBytes)).toString('utf8');
  } catch (error) {
    if (error instanceof FileReadError && error.reason !== 'unreadable') {
      // Not a passing outage: the setting points at the wrong thing, and retrying cannot help.
      throw new TorfleetError('NODE_SOURCE_INVALID', 'stalled', `cannot read the ${what} ${file}: ${error.message}`, {
        cause: error,
      });
    }
    const why = error instanceof FileReadError ? `: ${error.message}` : '';
    throw new TorfleetError('NODE_SOURCE_UNAVAILABLE', 'waiting', `cannot read the ${what} ${file}${why}`, {
      cause: error,
    });
  }
}
