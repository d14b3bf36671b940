import { ConfigError } from './errors.js';
import { isLoopbackAddress, parseEndpoint } from './fleet/ip-address.js';

/** Where a listener (the API, and the gateway and broker to come) takes its port. */
export interface ListenAddress {
  /** An IP literal (IPv6 without brackets). */
  readonly host: string;
  readonly port: number;
}

/** `IPV4:PORT` or `[IPV6]:PORT` (real IP literals, port 1-65535) from the setting `name`. */
export function parseListenSetting(name: string, text: string): ListenAddress {
  const endpoint = parseEndpoint(text);
  if (!endpoint) throw new ConfigError(`${name} is "${text}"; use IP:PORT such as 127.0.0.1:8080 or [::1]:8080`);
  return { host: endpoint.address, port: endpoint.port };
}

/**
 * A listener beyond loopback answers the network, so it must ask for a token: refuses `listen` (setting
 * `listenName`) on an address off the loopback network (`isLoopbackAddress`, in any spelling) when `token`
 * (setting `tokenName`) is null.
 */
export function requireTokenBeyondLoopback(
  listenName: string,
  listen: ListenAddress,
  tokenName: string,
  token: string | null,
): void {
  if (token !== null || isLoopbackAddress(listen.host)) return;
  const shown = listen.host.includes(':') ? `[${listen.host}]:${listen.port}` : `${listen.host}:${listen.port}`;
  throw new ConfigError(
    `${listenName} is ${shown}, beyond loopback: set ${tokenName} (clients send "Authorization: Bearer <token>") or listen on 127.0.0.1`,
  );
}
