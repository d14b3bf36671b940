import { ConfigError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Settings } from '../settings.js';
import { createConsensusSource } from './consensus-source.js';
import type { NodeSource } from './node-source.js';
import { createOnionooSource } from './onionoo-source.js';

/** The node source the settings name. The consensus source needs both a consensus and a GeoIP file. */
export function createNodeSource(settings: Settings, log: Logger): NodeSource {
  if (settings.nodeSource === 'onionoo') return createOnionooSource(settings.onionooUrl, { log });
  if (!settings.consensusUrl || !settings.geoipFile) {
    throw new ConfigError(
      'TORFLEET_NODE_SOURCE=consensus needs TORFLEET_CONSENSUS_URL (a directory port URL such as http://127.0.0.1:7000/tor/status-vote/current/consensus, or a file) and TORFLEET_GEOIP_FILE (a Tor geoip file)',
    );
  }
  return createConsensusSource(settings.consensusUrl, settings.geoipFile, { log });
}
