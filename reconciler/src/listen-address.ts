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

/** `host:port` as users write it: an IPv6 literal in brackets (`[::1]:8080`). */
export function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${String(port)}` : `${host}:${String(port)}`;
}

/**
 * A listener beyond loopback answers the network, so it must ask for a token: refuses `listen` (setting
 * `listenName`) on an address off the loopback network (`isLoopbackAddress`, in any spelling) when `token`
 * (setting `tokenName`) is null. `howSent` says how clients send it (an API: a Bearer header).
 */
export function requireTokenBeyondLoopback(
  listenName: string,
  listen: ListenAddress,
  tokenName: string,
  token: string | null,
  howSent = '"Authorization: Bearer <token>"',
): void {
  requireBeyondLoopback(listenName, listen, token !== null, `set ${tokenName} (clients send ${howSent})`);
}

/**
 * The one rule for every listener that may not answer the network unprotected: refuses `listen` (setting
 * `listenName`) off the loopback network unless `protectedBeyond` (a token, TLS); `remedy` says what to set.
 */
export function requireBeyondLoopback(
  listenName: string,
  listen: ListenAddress,
  protectedBeyond: boolean,
  remedy: string,
): void {
  if (protectedBeyond || isLoopbackAddress(listen.host)) return;
  throw new ConfigError(
    `${listenName} is ${hostPort(listen.host, listen.port)}, beyond loopback: ${remedy} or listen on 127.0.0.1`,
  );
}
