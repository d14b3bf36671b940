import { socksRouteTable } from './gateway-fixtures.js';
import { parseClientTokens } from '../broker/client-tokens.js';
import { silentLogger } from '../logger.js';
import { openNodeDatabase } from '../nodes/node-db-file.js';
import { listenOn } from '../service/serve-http.js';
import { tokenDigest } from '../token-digest.js';
import { ContentServiceParts, type ContentService } from '../torrent/content-service.js';
import { readTorrentSettings } from '../torrent/torrent-settings.js';

/** TESTS ONLY: where a content service under test keeps its state and listens, and its routes (SOCKS5 upstreams). */
export interface ContentHarnessOptions {
  readonly dbFile: string;
  readonly contentRoot: string;
  readonly apiPort: number;
  readonly peerPort: number;
  /** Route name → SOCKS5 port on 127.0.0.1 (each an upstream of that name). */
  readonly upstreams: Readonly<Record<string, number>>;
  readonly secret: string;
  /** A bearer client `alpha` with this token. */
  readonly token: string;
  /** TORFLEET_TORRENT_* settings besides the secret and the ports. */
  readonly env?: Readonly<Record<string, string>>;
}

export interface ContentHarness {
  readonly parts: ContentServiceParts;
  readonly service: ContentService;
  /** Closes the API (every connection), stops the service and closes its database connection. */
  stop(): Promise<void>;
}

/** TESTS ONLY: a content service as `torfleet run` assembles it, on its own database file, listening. */
export async function startContentHarness(options: ContentHarnessOptions): Promise<ContentHarness> {
  const env: Record<string, string> = {
    TORFLEET_TORRENT_SECRET: options.secret,
    TORFLEET_TORRENT_LISTEN: `127.0.0.1:${String(options.apiPort)}`,
    TORFLEET_TORRENT_PEER_PORT: String(options.peerPort),
    ...options.env,
  };
  const settings = readTorrentSettings((name) => env[name]);
  if (!settings) throw new Error('no torrent settings');
  const routes = socksRouteTable(options.upstreams);
  const tokens = parseClientTokens('tokens', `alpha ${tokenDigest(options.token).toString('hex')}\n`);
  if (!tokens.ok) throw new Error('bad test tokens');
  const parts = new ContentServiceParts(openNodeDatabase(options.dbFile, () => new Date(), silentLogger).db);
  const service = await parts.start({
    settings,
    contentRoot: options.contentRoot,
    routes: () => routes,
    health: { usable: () => true },
    tokens: () => tokens.tokens,
    now: Date.now,
    random: Math.random,
    log: silentLogger,
    backoffMs: 50,
  });
  await listenOn(service.server, settings.listen, 'TORFLEET_TORRENT_LISTEN');
  return {
    parts,
    service,
    stop: async () => {
      service.server.closeAllConnections();
      await new Promise((resolve) => service.server.close(resolve));
      await service.stop();
      parts.close();
    },
  };
}
