/**
 * `eval "$(node dist/reconciler/src/testing/shared-data-env.js)"`: materialises the repository's 2022 consensus and
 * GeoIP file (testdata/tor-2022-11-19/) and prints the settings that point the consensus node source at them.
 */
import { sharedConsensusFile, sharedGeoIpFile } from './shared-data.js';

process.stdout.write(
  `export TORFLEET_CONSENSUS_URL='${sharedConsensusFile}'\nexport TORFLEET_GEOIP_FILE='${sharedGeoIpFile}'\n`,
);
