import type { PrivateTorNetwork } from '../tor-network/private-tor-network.js';
import { cleanEnv } from './run-cli.js';

/** What one `torfleet run` on the private network has of its own. */
export interface NetworkRun {
  readonly instance: string;
  readonly runtime: 'docker' | 'process';
  /** The bare git repository it watches. */
  readonly repo: string;
  readonly db: string;
  readonly stateDir: string;
  /** TORFLEET_LISTEN, `127.0.0.1:PORT`. */
  readonly api: string;
}

/**
 * The environment of `torfleet run` against a private Tor network: its consensus as the node source, its echo
 * server as the egress check's target, health every second; `over` sets the rest (intervals).
 */
export function networkRunEnv(
  network: PrivateTorNetwork,
  run: NetworkRun,
  over: Readonly<Record<string, string>> = {},
): NodeJS.ProcessEnv {
  return cleanEnv({
    TORFLEET_INSTANCE: run.instance,
    TORFLEET_RUNTIME: run.runtime,
    TORFLEET_FLEET_REPO: run.repo,
    TORFLEET_DB: run.db,
    TORFLEET_STATE_DIR: run.stateDir,
    TORFLEET_NODE_SOURCE: 'consensus',
    TORFLEET_CONSENSUS_URL: network.consensusUrl,
    TORFLEET_GEOIP_FILE: network.geoipFile,
    TORFLEET_LISTEN: run.api,
    TORFLEET_PROBE_URL: network.echoUrl,
    TORFLEET_PROBE_TIMEOUT: '5s',
    TORFLEET_HEALTH_INTERVAL: '1s',
    ...over,
  });
}
