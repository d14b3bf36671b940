import { createHash, timingSafeEqual } from 'node:crypto';
import type { Route, RouteTable } from './route-types.js';

/**
 * STAND-IN for H1's `gateway/username.ts` (same signature), so the inbound side builds and tests before it lands.
 * Delete at merge and import `resolveRoute` from `./username.js` in proxy-auth.ts. Grammar: `ROUTE[-session-ID]`,
 * `ID` = `[A-Za-z0-9]{1,32}`; no username: the table's default route; a token, when set, is the password.
 */
export type RouteResolution =
  | { readonly ok: true; readonly route: Route; readonly session: string | null }
  | { readonly ok: false; readonly reason: 'token' | 'unknown-route' | 'no-default'; readonly message: string };

const SESSION = /^(.+)-session-([A-Za-z0-9]{1,32})$/;

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

export function resolveRoute(table: RouteTable, username: string | null, password: string | null): RouteResolution {
  if (table.token && !timingSafeEqual(digest(password ?? ''), digest(table.token.reveal()))) {
    return { ok: false, reason: 'token', message: 'wrong or missing gateway token: send it as the proxy password' };
  }
  if (!username) {
    const route = table.defaultRoute === null ? undefined : table.lookup(table.defaultRoute);
    if (!route) return { ok: false, reason: 'no-default', message: 'no route named: send one as the proxy username' };
    return { ok: true, route, session: null };
  }
  const match = SESSION.exec(username);
  const name = match?.[1] ?? username;
  const route = table.lookup(name);
  if (!route) return { ok: false, reason: 'unknown-route', message: 'unknown route in the proxy username' };
  return { ok: true, route, session: match?.[2] ?? null };
}
