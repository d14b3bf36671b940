import type { ClientTokens } from '../broker/client-tokens.js';
import type { WatchedFiles } from '../broker/watched-file.js';
import type { ContentServiceOptions, ContentServiceParts } from '../torrent/content-service.js';
import { startupRead, watchedTokens } from './broker-runnable.js';
import type { Runnable } from './runnable.js';
import { listenOn, serveUntilAborted } from './serve-http.js';

/**
 * The content jobs service (TORFLEET_TORRENT_SECRET): the seeder on TORFLEET_TORRENT_PEER_PORT, the jobs a
 * previous run left resumed, then the API and tracker on TORFLEET_TORRENT_LISTEN; ready once it listens. Its
 * tokens file (optional) is read at start and again whenever it changes. On stop, jobs under way go back to the
 * queue for the next start.
 */
export function contentRunnable(
  parts: ContentServiceParts,
  options: Omit<ContentServiceOptions, 'tokens' | 'log'>,
): Runnable {
  const { settings } = options;
  return {
    name: 'content',
    async run({ signal, ready, log }) {
      const tokensFile = settings.tokensFile;
      const tokens: WatchedFiles<ClientTokens> | null =
        tokensFile === null
          ? null
          : startupRead(
              () => watchedTokens(tokensFile, 'the content tokens file', log),
              'TORFLEET_TORRENT_TOKENS_FILE',
            );
      tokens?.watch();
      try {
        const service = await parts.start({ ...options, tokens: () => tokens?.value ?? null, log });
        try {
          await listenOn(service.server, settings.listen, 'TORFLEET_TORRENT_LISTEN');
          log.info('content service listening', {
            address: `http://${settings.listen.host}:${String(settings.listen.port)}`,
            seederPort: service.seederPort,
          });
          ready();
          await serveUntilAborted(service.server, signal);
        } finally {
          await service.stop();
        }
      } finally {
        await tokens?.stop();
      }
    },
  };
}
