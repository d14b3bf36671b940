/**
 * The content jobs service alone, for the bench: `node content-child.js DIR SOCKS_PORT` with the TORFLEET_TORRENT_*
 * settings in the environment; one route, `socks` (a SOCKS5 upstream on SOCKS_PORT); the database and contents in
 * DIR; a `bench` client with the token BENCH_TOKEN. Prints `ready` once it listens; ends on SIGTERM.
 */
import path from 'node:path';
import { parseClientTokens } from '../../reconciler/src/broker/client-tokens.js';
import { socksRouteTable } from '../../reconciler/src/testing/gateway-fixtures.js';
import { silentLogger } from '../../reconciler/src/logger.js';
import { openNodeDatabase } from '../../reconciler/src/nodes/node-db-file.js';
import { listenOn } from '../../reconciler/src/service/serve-http.js';
import { tokenDigest } from '../../reconciler/src/token-digest.js';
import { ContentServiceParts } from '../../reconciler/src/torrent/content-service.js';
import { readTorrentSettings } from '../../reconciler/src/torrent/torrent-settings.js';

const [dir = '', socksPort = ''] = process.argv.slice(2);
const settings = readTorrentSettings((name) => process.env[name]?.trim() || undefined);
if (!settings) throw new Error('set TORFLEET_TORRENT_SECRET');
const tokens = parseClientTokens('bench', `bench ${tokenDigest(process.env.BENCH_TOKEN ?? '').toString('hex')}\n`);
if (!tokens.ok) throw new Error(tokens.errors.join('; '));
const routes = socksRouteTable({ socks: Number(socksPort) });
const parts = new ContentServiceParts(
  openNodeDatabase(path.join(dir, 'torfleet.db'), () => new Date(), silentLogger).db,
);
const service = await parts.start({
  settings,
  contentRoot: path.join(dir, 'content'),
  routes: () => routes,
  health: { usable: () => true },
  tokens: () => tokens.tokens,
  now: Date.now,
  random: Math.random,
  log: silentLogger,
});
await listenOn(service.server, settings.listen, 'TORFLEET_TORRENT_LISTEN');
console.log('ready');
process.once('SIGTERM', () => {
  service.server.closeAllConnections();
  service.server.close();
  void service.stop().then(() => {
    parts.close();
    process.exit(0);
  });
});
