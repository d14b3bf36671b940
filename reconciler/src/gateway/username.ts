import { matchesDigest, tokenDigest } from '../token-digest.js';
import { SESSION_MARKER } from '../fleet/route-names.js';
import type { Route, RouteTable } from './route-types.js';

/** Longest proxy user name read (characters); anything longer names no route. */
export const MAX_USERNAME_LENGTH = 128;

/** A session ID: what follows `-session-`. */
const SESSION_ID = /^[A-Za-z0-9]{1,32}$/;

/** Characters a route name can have, in either case (route names are lower case; user names are folded). */
const ROUTE_CHARACTERS = /^[A-Za-z0-9_-]+$/;

export type UsernameProblem = 'too-long' | 'control-character' | 'not-a-route-name' | 'bad-session';

export type ParsedUsername =
  | {
      readonly ok: true;
      /** The route named, in lower case; null when the user name is empty or absent (the default route). */
      readonly route: string | null;
      readonly session: string | null;
    }
  | { readonly ok: false; readonly problem: UsernameProblem; readonly message: string };

/**
 * The proxy user name grammar: `ROUTE` or `ROUTE-session-ID` (ID: 1 to 32 letters or digits, case kept),
 * `-session-` (in any case) found at its LAST occurrence; empty or absent: the default route. ROUTE is
 * matched without regard to case (`GEO-DE` is `geo-de`) since every route name is lower case. At most 128
 * characters, no control character. A message never quotes the user name: it may be a credential typed in
 * the wrong field.
 */
export function parseUsername(username: string | null | undefined): ParsedUsername {
  if (username === null || username === undefined || username === '') return { ok: true, route: null, session: null };
  if (username.length > MAX_USERNAME_LENGTH) {
    return failure('too-long', `the proxy user name is longer than ${MAX_USERNAME_LENGTH} characters`);
  }
  // eslint-disable-next-line no-control-regex -- control characters are what this looks for
  if (/[\x00-\x1f\x7f]/.test(username))
    return failure('control-character', 'the proxy user name holds a control character');
  const marker = asciiLowerCase(username).lastIndexOf(SESSION_MARKER);
  const name = marker > 0 ? username.slice(0, marker) : username;
  const session = marker > 0 ? username.slice(marker + SESSION_MARKER.length) : null;
  if (session !== null && !SESSION_ID.test(session)) {
    return failure('bad-session', 'the session ID after "-session-" must be 1 to 32 letters or digits');
  }
  if (!ROUTE_CHARACTERS.test(name)) {
    return failure('not-a-route-name', 'the proxy user name is not a route name (letters, digits, "-" and "_")');
  }
  return { ok: true, route: asciiLowerCase(name), session };
}

export type RouteResolution =
  | { readonly ok: true; readonly route: Route; readonly session: string | null }
  | { readonly ok: false; readonly reason: 'token' | 'unknown-route' | 'no-default'; readonly message: string };

const tokenDigests = new WeakMap<RouteTable, Buffer>();

/**
 * The route a client asked for with its proxy user name and password. The token comes first (a client
 * without it learns nothing about routes), compared in constant time through SHA-256 digests; a table
 * without a token takes any password. Messages quote a route name only once it passed the grammar, and
 * never the password.
 */
export function resolveRoute(
  table: RouteTable,
  username: string | null | undefined,
  password: string | null | undefined,
): RouteResolution {
  if (table.token && !tokenMatches(table, password)) {
    const message =
      password === null || password === undefined || password === ''
        ? 'this gateway asks for a token: send it as the proxy password (http://ROUTE:TOKEN@HOST:PORT)'
        : 'the proxy password is not the gateway token';
    return { ok: false, reason: 'token', message };
  }
  const parsed = parseUsername(username);
  if (!parsed.ok) return { ok: false, reason: 'unknown-route', message: parsed.message };
  if (parsed.route === null) {
    const name = table.defaultRoute;
    const route = name === null ? undefined : table.lookup(name);
    if (route) return { ok: true, route, session: null };
    const message =
      name === null
        ? 'name a route as the proxy user name (http://ROUTE@HOST:PORT): the fleet sets no gateway.default'
        : `the default route "${name}" is not in the fleet: name a route as the proxy user name`;
    return { ok: false, reason: 'no-default', message };
  }
  const route = table.lookup(parsed.route);
  if (route) return { ok: true, route, session: parsed.session };
  return { ok: false, reason: 'unknown-route', message: `no route "${parsed.route}" in the fleet` };
}

function tokenMatches(table: RouteTable, password: string | null | undefined): boolean {
  if (!table.token) return true;
  let expected = tokenDigests.get(table);
  if (!expected) {
    expected = tokenDigest(table.token.reveal());
    tokenDigests.set(table, expected);
  }
  return matchesDigest(password ?? '', expected);
}

/** Lower case of A-Z only: the same length, so indices found in it hold in the original. */
function asciiLowerCase(text: string): string {
  return text.replace(/[A-Z]/g, (char) => char.toLowerCase());
}

function failure(problem: UsernameProblem, message: string): ParsedUsername {
  return { ok: false, problem, message };
}
