import { ConfigError } from '../errors.js';
import { parseListenSetting, requireBeyondLoopback, type ListenAddress } from '../listen-address.js';

/** The broker's settings (`torfleet run`); the broker is off (null) until TORFLEET_BROKER_TOKENS_FILE is set. */
export interface BrokerSettings {
  /** TORFLEET_BROKER_LISTEN, default 127.0.0.1:8090. */
  readonly listen: ListenAddress;
  /** TORFLEET_BROKER_TOKENS_FILE: `CLIENT_NAME SHA256_HEX_OF_TOKEN` lines (client-tokens.ts). */
  readonly tokensFile: string;
  /** TORFLEET_BROKER_TLS_CERT and TORFLEET_BROKER_TLS_KEY (PEM files), both or neither; required beyond loopback. */
  readonly tls: { readonly certFile: string; readonly keyFile: string } | null;
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
  return { listen, tokensFile, tls };
}
