import { ConfigError } from '../errors.js';
import { isIP } from 'node:net';
import { parseListenSetting, requireBeyondLoopback, type ListenAddress } from '../listen-address.js';
import type { RateLimit } from '../rate-limit/token-bucket.js';
import { parseDurationSetting, parseRateSettings } from '../setting-values.js';
import { FALLBACK_POLICIES, type FallbackPolicy } from './lease-answer.js';

/** The broker's settings (`torfleet run`); the broker is off (null) until TORFLEET_BROKER_TOKENS_FILE is set. */
export interface BrokerSettings {
  /** TORFLEET_BROKER_LISTEN, default 127.0.0.1:8090. */
  readonly listen: ListenAddress;
  /** TORFLEET_BROKER_TOKENS_FILE: `CLIENT_NAME SHA256_HEX_OF_TOKEN` lines (client-tokens.ts). */
  readonly tokensFile: string;
  /** TORFLEET_BROKER_TLS_CERT and TORFLEET_BROKER_TLS_KEY (PEM files), both or neither; required beyond loopback. */
  readonly tls: { readonly certFile: string; readonly keyFile: string } | null;
  /** TORFLEET_BROKER_LEASE_TTL (default 5m): how long a lease lives, and so how long a request stays sticky. */
  readonly leaseTtlSeconds: number;
  /** TORFLEET_BROKER_FALLBACK (default fail): what a client should do when its region has nothing healthy. */
  readonly fallback: FallbackPolicy;
  /** TORFLEET_BROKER_RATE / TORFLEET_BROKER_BURST (default 50 per second, bursts of 100), per client. */
  readonly rate: RateLimit;
  /** TORFLEET_BROKER_PROXY_HOST (default 127.0.0.1): the address clients reach a proxy bound to every address at. */
  readonly proxyHost: string;
}

export const DEFAULT_BROKER_LISTEN = '127.0.0.1:8090';

/** `get` gives a setting's trimmed value, or undefined when unset or empty (as readSettings does). */
export function readBrokerSettings(get: (name: string) => string | undefined): BrokerSettings | null {
  const tokensFile = get('TORFLEET_BROKER_TOKENS_FILE');
  const listenText = get('TORFLEET_BROKER_LISTEN');
  const certFile = get('TORFLEET_BROKER_TLS_CERT');
  const keyFile = get('TORFLEET_BROKER_TLS_KEY');
  const listen = parseListenSetting('TORFLEET_BROKER_LISTEN', listenText ?? DEFAULT_BROKER_LISTEN);
  if ((certFile === undefined) !== (keyFile === undefined)) {
    const [set, unset] = certFile === undefined ? ['KEY', 'CERT'] : ['CERT', 'KEY'];
    throw new ConfigError(
      `TORFLEET_BROKER_TLS_${set} is set but TORFLEET_BROKER_TLS_${unset} is not: give both PEM files (certificate and key), or neither`,
    );
  }
  if (tokensFile === undefined) {
    const stray = [listenText && 'TORFLEET_BROKER_LISTEN', certFile && 'TORFLEET_BROKER_TLS_CERT'].filter(Boolean);
    if (stray.length > 0) {
      throw new ConfigError(
        `${stray.join(' and ')} ${stray.length > 1 ? 'are' : 'is'} set but TORFLEET_BROKER_TOKENS_FILE is not: the broker runs only with a tokens file of "CLIENT_NAME SHA256_HEX_OF_TOKEN" lines`,
      );
    }
    return null;
  }
  const tls = certFile !== undefined && keyFile !== undefined ? { certFile, keyFile } : null;
  requireBeyondLoopback(
    'TORFLEET_BROKER_LISTEN',
    listen,
    tls !== null,
    'set TORFLEET_BROKER_TLS_CERT and TORFLEET_BROKER_TLS_KEY (tokens must not cross a network in clear)',
  );
  const fallback = get('TORFLEET_BROKER_FALLBACK') ?? 'fail';
  if (!(FALLBACK_POLICIES as readonly string[]).includes(fallback)) {
    throw new ConfigError(`TORFLEET_BROKER_FALLBACK is "${fallback}"; use ${FALLBACK_POLICIES.join(', ')}`);
  }
  const proxyHost = get('TORFLEET_BROKER_PROXY_HOST') ?? '127.0.0.1';
  if (isIP(proxyHost) === 0) {
    throw new ConfigError(
      `TORFLEET_BROKER_PROXY_HOST is "${proxyHost}"; use the IP address clients reach the proxies at, such as 10.0.0.5`,
    );
  }
  return {
    listen,
    tokensFile,
    tls,
    leaseTtlSeconds: parseDurationSetting('TORFLEET_BROKER_LEASE_TTL', get('TORFLEET_BROKER_LEASE_TTL') ?? '5m') / 1000,
    fallback: fallback as FallbackPolicy,
    rate: parseRateSettings('TORFLEET_BROKER', get, 50),
    proxyHost,
  };
}
