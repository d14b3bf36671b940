import { existsSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../package-root.js';

/**
 * The real Tor network data shared beside the repository (../shared/data/tor-2022-11-19):
 * a 2022 consensus (6088 relays, 1438 Exit) and the matching GeoIP file. TORFLEET_SHARED_DATA overrides.
 */
export const sharedDataDir: string =
  process.env.TORFLEET_SHARED_DATA ?? path.resolve(packageRoot, '..', 'shared', 'data', 'tor-2022-11-19');

export const sharedConsensusFile: string = path.join(sharedDataDir, 'cached-consensus');
export const sharedGeoIpFile: string = path.join(sharedDataDir, 'geoip');

export function requireSharedData(): void {
  if (!existsSync(sharedConsensusFile) || !existsSync(sharedGeoIpFile)) {
    throw new Error(`shared Tor data not found in ${sharedDataDir}; set TORFLEET_SHARED_DATA`);
  }
}
