import type { Target } from './route-types.js';
import { checkTargetHost } from './target-address.js';

export type ParsedTarget =
  | {
      readonly ok: true;
      readonly target: Target;
      readonly absolute: string;
      readonly origin: string;
      readonly host: string;
    }
  | { readonly ok: false; readonly message: string };

/**
 * The target of an absolute-form request (`http://HOST[:PORT]/path`): the host kept as written (a name is never
 * resolved), the absolute form without user information, the origin form, and `HOST[:PORT]` for a missing Host.
 */
export function parseAbsoluteTarget(requestTarget: string): ParsedTarget {
  let url: URL;
  try {
    url = new URL(requestTarget);
  } catch {
    return { ok: false, message: 'the request target is not an absolute http:// URL' };
  }
  if (url.protocol === 'https:') {
    return { ok: false, message: 'https:// goes through CONNECT (curl does that by itself with -x)' };
  }
  if (url.protocol !== 'http:' || url.hostname === '') {
    return { ok: false, message: `only http:// URLs are forwarded, not ${url.protocol}` };
  }
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const origin = `${url.pathname}${url.search}`;
  const target = { host, port: url.port === '' ? 80 : Number(url.port) };
  const refusal = refusalOf(target);
  if (refusal) return refusal;
  return {
    ok: true,
    target,
    absolute: `http://${url.host}${origin}`,
    origin,
    host: url.host,
  };
}

/** The target of `CONNECT host:port` (IPv6 as `[::1]:443`), or why not. */
export function parseConnectTarget(authority: string): ParsedTarget {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^\s:/?#@[\]]+)):(\d{1,5})$/.exec(authority);
  const port = Number(match?.[3]);
  const host = match?.[1] ?? match?.[2];
  if (!match || host === undefined || port < 1 || port > 65535) {
    return { ok: false, message: 'CONNECT wants HOST:PORT (an IPv6 literal in brackets)' };
  }
  return (
    refusalOf({ host, port }) ?? {
      ok: true,
      target: { host, port },
      absolute: authority,
      origin: authority,
      host: authority,
    }
  );
}

/**
 * A target no proxy could be asked for, refused here as the client's mistake (400) rather than dialed and
 * failed as the route's: port 0, a name over 255 bytes (SOCKS5 cannot carry it) or with other characters.
 */
function refusalOf(target: Target): { readonly ok: false; readonly message: string } | undefined {
  if (target.port < 1 || target.port > 65535) return { ok: false, message: 'the target port must be 1-65535' };
  try {
    checkTargetHost(target);
    return undefined;
  } catch {
    return {
      ok: false,
      message: `the target host is not an IP literal or a host name (letters, digits, "-", "_", "."; at most 255 characters)`,
    };
  }
}
