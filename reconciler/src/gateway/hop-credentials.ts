import type { Secret } from '../fleet/secret.js';
import type { SocksCredentials } from './socks5-client.js';

/** `USER:PASSWORD` split at the first colon (a password may hold colons); no colon: all user, empty password. */
export function socksCredentials(auth: Secret): SocksCredentials {
  const value = auth.reveal();
  const colon = value.indexOf(':');
  return colon < 0 ? { user: value, password: '' } : { user: value.slice(0, colon), password: value.slice(colon + 1) };
}

/** The `Proxy-Authorization` value for `USER:PASSWORD`: sent only to the proxy it belongs to. */
export function basicAuthorization(auth: Secret): string {
  return `Basic ${Buffer.from(auth.reveal(), 'utf8').toString('base64')}`;
}

/**
 * Tor's SOCKS credentials for a session (IsolateSOCKSAuth, on by default for a SocksPort): the same route and
 * session give the same circuit, another session another one; no session: no authentication (tor's shared group).
 */
export function torIsolation(route: string, session: string | null): SocksCredentials | null {
  return session === null ? null : { user: `torfleet-${route}`, password: session };
}
