/** A request target the API can route: its path (still percent-encoded) and query. */
export interface RoutableTarget {
  readonly ok: true;
  readonly path: string;
  readonly query: URLSearchParams;
}

export interface InvalidTarget {
  readonly ok: false;
  readonly message: string;
}

/** How much of a client's target an error message repeats (a 100 KB target is not echoed back). */
const ECHO_LIMIT = 80;

/**
 * Reads an HTTP request target (RFC 9112 section 3.2) without trusting it. Origin-form (`/path?query`)
 * is taken literally, so `//host/status` stays a path and never names a host; absolute-form
 * (`http://host:port/path`) must be a valid http URL; anything else (`*`, authority-form, a bare word)
 * names no resource here. The path must be valid percent-encoded UTF-8, so every route parameter decodes.
 */
export function parseRequestTarget(raw: string): RoutableTarget | InvalidTarget {
  if (raw.startsWith('/')) {
    const mark = raw.indexOf('?');
    const path = mark === -1 ? raw : raw.slice(0, mark);
    const query = new URLSearchParams(mark === -1 ? '' : raw.slice(mark + 1));
    return checkedPath(raw, path, query);
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return invalid(raw, 'is not a valid absolute URL (bad host or port)');
    }
    if (url.protocol !== 'http:') return invalid(raw, `uses ${url.protocol.slice(0, -1)}; this API speaks plain http`);
    return checkedPath(raw, url.pathname, url.searchParams);
  }
  if (raw === '*') return invalid(raw, 'names no resource here (the asterisk form is for server-wide OPTIONS)');
  return invalid(raw, 'is neither a path starting with "/" nor an absolute http URL');
}

function checkedPath(raw: string, path: string, query: URLSearchParams): RoutableTarget | InvalidTarget {
  try {
    decodeURIComponent(path);
  } catch {
    return invalid(raw, 'has a malformed percent-escape (each % must start a valid UTF-8 sequence such as %C3%A9)');
  }
  return { ok: true, path, query };
}

function invalid(raw: string, why: string): InvalidTarget {
  const shown = raw.length > ECHO_LIMIT ? `${raw.slice(0, ECHO_LIMIT)}...` : raw;
  return {
    ok: false,
    message: `the request target ${JSON.stringify(shown)} ${why}; request a route such as /proxies or /proxies/NAME`,
  };
}
