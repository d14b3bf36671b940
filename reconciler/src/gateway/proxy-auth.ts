import type { Redactor } from './redact.js';
import type { Route, RouteTable } from './route-types.js';
import { UNKNOWN_ROUTE, type GatewayResult } from './gateway-metrics.js';
import { resolveRoute } from './username.js';

/** The credentials a client sent: `Proxy-Authorization: Basic` or the SOCKS5 user/password; null halves when absent. */
export interface ProxyCredentials {
  readonly username: string | null;
  readonly password: string | null;
}

export type ProxyAuthResult =
  | { readonly ok: true; readonly route: Route; readonly session: string | null; readonly label: string }
  | { readonly ok: false; readonly result: GatewayResult; readonly message: string };

const NO_CREDENTIALS: ProxyCredentials = { username: null, password: null };
/** How many route names a 407 body lists before it says how many more there are. */
export const ROUTE_NAMES_SHOWN = 40;

/** The credentials of a `Proxy-Authorization` header; anything but `Basic` (or no header) counts as none. */
export function parseProxyAuthorization(header: string | undefined): ProxyCredentials {
  const encoded = header === undefined ? undefined : /^\s*Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header)?.[1];
  if (encoded === undefined) return NO_CREDENTIALS;
  const text = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  const username = colon < 0 ? text : text.slice(0, colon);
  return { username: username === '' ? null : username, password: colon < 0 ? null : text.slice(colon + 1) };
}

/**
 * The route the credentials name. `label` is the route's metric label: its name when the table lists it, else
 * `unknown` (a `geo-xx` code nothing lists is still served, but the client's text never becomes a label).
 */
export function authenticate(table: RouteTable, credentials: ProxyCredentials, redactor: Redactor): ProxyAuthResult {
  const resolved = resolveRoute(table, credentials.username, credentials.password);
  if (resolved.ok) {
    const label = table.names().includes(resolved.route.name) ? resolved.route.name : UNKNOWN_ROUTE;
    return { ok: true, route: resolved.route, session: resolved.session, label };
  }
  const result: GatewayResult = resolved.reason === 'token' ? 'auth' : resolved.reason;
  return { ok: false, result, message: redactor.redact(resolved.message) };
}

/** The body of a 407: what went wrong, the username grammar and the valid routes (at most ROUTE_NAMES_SHOWN). */
export function proxyAuthBody(table: RouteTable, message: string): string {
  const names = table.names();
  const shown = names.slice(0, ROUTE_NAMES_SHOWN).join(', ');
  const more = names.length > ROUTE_NAMES_SHOWN ? ` and ${names.length - ROUTE_NAMES_SHOWN} more` : '';
  const token = table.token ? ' with the gateway token as the password' : '';
  return (
    `torfleet gateway: ${message}.\n` +
    `Send the route as the proxy username${token} (ROUTE or ROUTE-session-ID).\n` +
    `Routes: ${names.length === 0 ? '(none)' : shown + more}.\n`
  );
}

export const PROXY_AUTHENTICATE = 'Basic realm="torfleet"';
