/**
 * The content jobs service alone, for the bench: `node content-child.js DIR SOCKS_PORT API_PORT PEER_PORT` with the
 * TORFLEET_TORRENT_* settings (the secret among them) in the environment; the API on 127.0.0.1:API_PORT; one route, `socks` (a SOCKS5
 * upstream on SOCKS_PORT); the database and contents in DIR; a bearer client with the token BENCH_TOKEN. The same
 * assembly as the tests' (testing/content-harness.ts). Prints `ready` once it listens; ends on SIGTERM.
 */
import path from 'node:path';
import { startContentHarness } from '../../reconciler/src/testing/content-harness.js';

const [dir = '', socksPort = '', apiPort = '', peerPort = ''] = process.argv.slice(2);
const env = Object.fromEntries(
  Object.entries(process.env).flatMap(([name, value]) =>
    name.startsWith('TORFLEET_TORRENT_') && value ? [[name, value.trim()]] : [],
  ),
);
const harness = await startContentHarness({
  dbFile: path.join(dir, 'torfleet.db'),
  contentRoot: path.join(dir, 'content'),
  apiPort: Number(apiPort),
  peerPort: Number(peerPort),
  upstreams: { socks: Number(socksPort) },
  secret: env.TORFLEET_TORRENT_SECRET ?? '',
  token: process.env.BENCH_TOKEN ?? '',
  env,
});
console.log('ready');
process.once('SIGTERM', () => {
  void harness.stop().then(() => process.exit(0));
});
