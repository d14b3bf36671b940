import { readFileSync } from 'node:fs';
import { ConfigError, errorMessage } from '../errors.js';
import { isIP } from 'node:net';
import { isWildcardAddress } from '../fleet/ip-address.js';
import { parseListenSetting, type ListenAddress } from '../listen-address.js';
import type { RateLimit } from '../rate-limit/token-bucket.js';
import { parseCountSetting, parseDurationSetting, parseRateSettings, parseSizeSetting } from '../setting-values.js';

/** The content jobs service's settings (`torfleet run`); off (null) until TORFLEET_TORRENT_SECRET(_FILE) is set. */
export interface TorrentSettings {
  /** TORFLEET_TORRENT_LISTEN, default 127.0.0.1:8091: the jobs API and the tracker (`/announce`). */
  readonly listen: ListenAddress;
  /** The HMAC key: TORFLEET_TORRENT_SECRET, or the contents of TORFLEET_TORRENT_SECRET_FILE. Never logged. */
  readonly secret: Buffer;
  /** TORFLEET_TORRENT_TOKENS_FILE: bearer tokens as for the broker (`CLIENT_NAME SHA256_HEX` lines), optional. */
  readonly tokensFile: string | null;
  /** TORFLEET_TORRENT_WORKERS (default 2): jobs fetched at once. */
  readonly workers: number;
  /** TORFLEET_TORRENT_RETRIES (default 2): further attempts after a transient fetch failure, with backoff. */
  readonly retries: number;
  /** TORFLEET_TORRENT_MAX_SIZE (default 512MiB): a fetch is failed as soon as it passes this. */
  readonly maxBytes: number;
  /** TORFLEET_TORRENT_MIME (default below): the content types a fetch may return; `type/*` for a whole type. */
  readonly mimeAllowlist: readonly string[];
  readonly connectTimeoutMs: number;
  readonly readTimeoutMs: number;
  /**
   * TORFLEET_TORRENT_PUBLIC_HOST (default: the listen address's host): the IP address downloaders reach the
   * tracker and the seeder at (the torrents' announce URL, the seeder's entry in the tracker). Required when
   * the listen address is a wildcard.
   */
  readonly publicHost: string;
  /** TORFLEET_TORRENT_PEER_PORT (default 6881): the seeder's TCP port, on the listen address's host. */
  readonly peerPort: number;
  /** TORFLEET_TORRENT_UPLOAD_RATE (default 0: unlimited): bytes per second the seeder sends in all. */
  readonly uploadBytesPerSecond: number;
  /** TORFLEET_TORRENT_PEERS (default 50): peer connections the seeder holds at once. */
  readonly maxPeers: number;
  /** TORFLEET_TORRENT_RATE / TORFLEET_TORRENT_BURST (default 20 per second, bursts of 40), per client. */
  readonly rate: RateLimit;
  /** TORFLEET_TORRENT_MAX_QUEUED (default 1000): a client's jobs not yet finished; one more is a 429. */
  readonly maxUnfinished: number;
}

export const DEFAULT_MIME_ALLOWLIST = [
  'application/octet-stream',
  'application/json',
  'application/pdf',
  'application/zip',
  'application/gzip',
  'text/*',
  'image/*',
];

const MIME = /^[a-z0-9][a-z0-9!#$&^_.+-]*\/(\*|[a-z0-9][a-z0-9!#$&^_.+-]*)$/;

/** `get` gives a setting's trimmed value, or undefined when unset or empty (as readSettings does). */
export function readTorrentSettings(get: (name: string) => string | undefined): TorrentSettings | null {
  const secretText = get('TORFLEET_TORRENT_SECRET');
  const secretFile = get('TORFLEET_TORRENT_SECRET_FILE');
  if (secretText !== undefined && secretFile !== undefined) {
    throw new ConfigError(
      'TORFLEET_TORRENT_SECRET and TORFLEET_TORRENT_SECRET_FILE are both set: give the secret one way',
    );
  }
  const secret =
    secretText !== undefined ? Buffer.from(secretText) : secretFile !== undefined ? readSecret(secretFile) : null;
  if (secret === null) {
    const stray = ['TORFLEET_TORRENT_LISTEN', 'TORFLEET_TORRENT_TOKENS_FILE'].filter((name) => get(name) !== undefined);
    if (stray.length > 0) {
      throw new ConfigError(
        `${stray.join(' and ')} ${stray.length > 1 ? 'are' : 'is'} set but TORFLEET_TORRENT_SECRET is not: content jobs run only with a secret`,
      );
    }
    return null;
  }
  if (secret.length < 16) {
    throw new ConfigError(
      'the TORFLEET_TORRENT_SECRET is shorter than 16 bytes: use a long random one, such as: openssl rand -hex 32',
    );
  }
  const mimeText = get('TORFLEET_TORRENT_MIME');
  const mimeAllowlist =
    mimeText === undefined ? DEFAULT_MIME_ALLOWLIST : mimeText.split(',').map((type) => type.trim().toLowerCase());
  const badMime = mimeAllowlist.find((type) => !MIME.test(type));
  if (badMime !== undefined) {
    throw new ConfigError(
      `TORFLEET_TORRENT_MIME holds ${JSON.stringify(badMime)}: list content types such as application/pdf,text/*, separated by commas`,
    );
  }
  const peerPort = parseCountSetting('TORFLEET_TORRENT_PEER_PORT', get('TORFLEET_TORRENT_PEER_PORT') ?? '6881', 65_535);
  if (peerPort < 1) throw new ConfigError('TORFLEET_TORRENT_PEER_PORT is 0; use a port from 1 to 65535');
  const workers = parseCountSetting('TORFLEET_TORRENT_WORKERS', get('TORFLEET_TORRENT_WORKERS') ?? '2', 64);
  if (workers < 1) throw new ConfigError('TORFLEET_TORRENT_WORKERS is 0; use at least 1');
  const listen = parseListenSetting('TORFLEET_TORRENT_LISTEN', get('TORFLEET_TORRENT_LISTEN') ?? '127.0.0.1:8091');
  const publicHost = get('TORFLEET_TORRENT_PUBLIC_HOST') ?? listen.host;
  if (isIP(publicHost) === 0 || isWildcardAddress(publicHost)) {
    throw new ConfigError(
      get('TORFLEET_TORRENT_PUBLIC_HOST') === undefined
        ? `TORFLEET_TORRENT_LISTEN is the wildcard ${listen.host}: set TORFLEET_TORRENT_PUBLIC_HOST to the IP address downloaders reach this host at (the torrents announce to it)`
        : `TORFLEET_TORRENT_PUBLIC_HOST is ${JSON.stringify(publicHost)}: give the IP address (not a name, not a wildcard) downloaders reach this host at`,
    );
  }
  return {
    listen,
    publicHost,
    secret,
    tokensFile: get('TORFLEET_TORRENT_TOKENS_FILE') ?? null,
    workers,
    retries: parseCountSetting('TORFLEET_TORRENT_RETRIES', get('TORFLEET_TORRENT_RETRIES') ?? '2', 10),
    maxBytes: parseSizeSetting(
      'TORFLEET_TORRENT_MAX_SIZE',
      get('TORFLEET_TORRENT_MAX_SIZE') ?? '512MiB',
      64 * 1024 ** 3,
    ),
    mimeAllowlist,
    connectTimeoutMs: parseDurationSetting(
      'TORFLEET_TORRENT_CONNECT_TIMEOUT',
      get('TORFLEET_TORRENT_CONNECT_TIMEOUT') ?? '30s',
    ),
    readTimeoutMs: parseDurationSetting('TORFLEET_TORRENT_READ_TIMEOUT', get('TORFLEET_TORRENT_READ_TIMEOUT') ?? '60s'),
    peerPort,
    uploadBytesPerSecond:
      get('TORFLEET_TORRENT_UPLOAD_RATE') === undefined || get('TORFLEET_TORRENT_UPLOAD_RATE') === '0'
        ? 0
        : parseSizeSetting('TORFLEET_TORRENT_UPLOAD_RATE', get('TORFLEET_TORRENT_UPLOAD_RATE') ?? '', 10 * 1024 ** 3),
    maxPeers: parseCountSetting('TORFLEET_TORRENT_PEERS', get('TORFLEET_TORRENT_PEERS') ?? '50', 10_000),
    rate: parseRateSettings('TORFLEET_TORRENT', get, 20),
    maxUnfinished: Math.max(
      1,
      parseCountSetting('TORFLEET_TORRENT_MAX_QUEUED', get('TORFLEET_TORRENT_MAX_QUEUED') ?? '1000', 1_000_000),
    ),
  };
}

function readSecret(file: string): Buffer {
  try {
    const text = readFileSync(file).toString('utf8').trim();
    return Buffer.from(text);
  } catch (error) {
    throw new ConfigError(`TORFLEET_TORRENT_SECRET_FILE: cannot read ${file}: ${errorMessage(error)}`);
  }
}

/** Whether a response's Content-Type (parameters ignored) is one the allowlist takes. */
export function mimeAllowed(contentType: string | undefined, allowlist: readonly string[]): boolean {
  const type = (contentType ?? 'application/octet-stream').split(';')[0]?.trim().toLowerCase() ?? '';
  if (!MIME.test(type) || type.endsWith('/*')) return false;
  const major = type.slice(0, type.indexOf('/'));
  return allowlist.some((allowed) => allowed === type || allowed === `${major}/*`);
}
