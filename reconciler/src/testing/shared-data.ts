import { packagePath } from '../package-root.js';
import { materialiseTestData } from './materialise-test-data.js';

/**
 * The real Tor network data the repository carries for tests and bench/ (testdata/tor-2022-11-19/, see its
 * SOURCES.md): a 2022 consensus (6088 relays, 1438 Exit) and the matching GeoIP file, stored brotli-compressed
 * and materialised on first import into dist/testdata/tor-2022-11-19/ (build output, ignored by git), checksum
 * verified. "Shared" as in shared by the test files; nothing outside the repository is read.
 */
export const sharedDataDir: string = packagePath('testdata', 'tor-2022-11-19');

const files = materialiseTestData(sharedDataDir, packagePath('dist', 'testdata', 'tor-2022-11-19'));

function materialised(name: string): string {
  const file = files.get(name);
  if (file === undefined) throw new Error(`${sharedDataDir}/SHA256SUMS lists no ${name}; restore it with git checkout`);
  return file;
}

export const sharedConsensusFile: string = materialised('cached-consensus');
export const sharedGeoIpFile: string = materialised('geoip');
