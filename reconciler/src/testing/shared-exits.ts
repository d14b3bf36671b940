import { readFileSync } from 'node:fs';
import type { EligibleExit } from '../nodes/eligible-exit.js';
import { parseConsensus } from '../nodes/consensus-parser.js';
import { parseGeoIp } from '../nodes/geoip.js';
import { network16 } from '../nodes/relay.js';
import { sharedConsensusFile, sharedGeoIpFile } from './shared-data.js';

/** The eligible exits of the shared 2022 consensus (running, Exit, not BadExit, known country), by fingerprint. */
export function sharedEligibleExits(): EligibleExit[] {
  const consensus = parseConsensus(readFileSync(sharedConsensusFile, 'utf8'), 'consensus');
  const geoip = parseGeoIp(readFileSync(sharedGeoIpFile, 'utf8'), 'geoip');
  const exits: EligibleExit[] = [];
  for (const entry of consensus.entries) {
    const country = geoip.countryOf(entry.address);
    if (
      !country ||
      !entry.flags.includes('Running') ||
      !entry.flags.includes('Exit') ||
      entry.flags.includes('BadExit')
    ) {
      continue;
    }
    exits.push({
      fingerprint: entry.fingerprint,
      nickname: entry.nickname,
      address: entry.address,
      country,
      network: network16(entry.address),
    });
  }
  return exits.sort((a, b) => (a.fingerprint < b.fingerprint ? -1 : 1));
}
