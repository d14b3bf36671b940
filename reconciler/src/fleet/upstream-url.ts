import { isIP } from 'node:net';

export type UpstreamUrl =
  | { readonly ok: true; readonly protocol: 'http' | 'socks5'; readonly host: string; readonly port: number }
  | { readonly ok: false; readonly problem: string };

/** The schemes an upstream URL may have, as the messages list them. `socks5h` is a synonym of `socks5`. */
export const UPSTREAM_SCHEMES = 'http://HOST:PORT or socks5://HOST:PORT';

const PROTOCOLS: Readonly<Record<string, 'http' | 'socks5'>> = { http: 'http', socks5: 'socks5', socks5h: 'socks5' };

/** A DNS label: letters, digits and inner hyphens, at most 63 characters. */
const LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/**
 * Parses a `gateway.upstreams[].url` by hand, not with WHATWG `URL` (which would quietly rewrite
 * `http://0x7f.1` to 127.0.0.1, percent-decode, and apply IDNA): `http://HOST:PORT` or `socks5://HOST:PORT`
 * (`socks5h://` too: the gateway never resolves a target name, so every socks5 upstream gets names), an
 * optional trailing `/`, nothing else. HOST is an IPv4 literal, an `[IPv6]` literal or a DNS name; the port
 * is required (no default port hides behind a scheme). A problem never quotes the URL itself: it may hold
 * credentials someone pasted into it.
 */
export function parseUpstreamUrl(text: string): UpstreamUrl {
  const schemeMatch = /^([A-Za-z][A-Za-z0-9+.-]{0,19}):\/\//.exec(text);
  if (!schemeMatch?.[1]) return problem(`the url must start with a scheme: write ${UPSTREAM_SCHEMES}`);
  const scheme = schemeMatch[1].toLowerCase();
  const protocol = PROTOCOLS[scheme];
  if (!protocol) return problem(`scheme "${scheme}://" is not supported; write ${UPSTREAM_SCHEMES} (or socks5h://)`);
  const rest = text.slice(schemeMatch[0].length);
  const end = rest.search(/[/?#]/);
  const authority = end === -1 ? rest : rest.slice(0, end);
  const tail = end === -1 ? '' : rest.slice(end);
  if (authority.includes('@')) {
    return problem('the url must not hold user information: put credentials in auth: "${NAME}" instead');
  }
  if (tail !== '' && tail !== '/') {
    return problem(`the url must end after the port (a "/" at most): no path, query or fragment`);
  }
  const hostPort = /^(\[[^\]]*\]|[^[\]:]*):([^:]*)$/.exec(authority);
  if (!hostPort) return problem(`the url needs a host and a port: write ${UPSTREAM_SCHEMES}`);
  const port = parsePort(hostPort[2] ?? '');
  if (port === undefined) return problem('the port must be a number from 1 to 65535 (no leading zero)');
  const host = parseHost(hostPort[1] ?? '');
  if (host === undefined) {
    return problem('the host must be an IPv4 address, an [IPv6] address in brackets, or a DNS name');
  }
  return { ok: true, protocol, host, port };
}

function parsePort(text: string): number | undefined {
  if (!/^[1-9][0-9]{0,4}$/.test(text)) return undefined;
  const port = Number(text);
  return port <= 65535 ? port : undefined;
}

/** An IP literal (IPv6 without its brackets, no zone id) or a DNS name in lower case; undefined otherwise. */
function parseHost(text: string): string | undefined {
  if (text.startsWith('[')) {
    const inner = text.slice(1, -1);
    return isIP(inner) === 6 && !inner.includes('%') ? inner.toLowerCase() : undefined;
  }
  if (isIP(text) === 4) return text;
  const name = text.endsWith('.') ? text.slice(0, -1) : text;
  const labels = name.split('.');
  if (name.length === 0 || name.length > 253 || !labels.every((label) => LABEL.test(label))) return undefined;
  // A name whose last label is a number (`1.2.3`, `0x7f`) reads as an IPv4 address to URL parsers and to
  // inet_aton: refuse it rather than guess which address it means.
  if (/^(?:[0-9]+|0x[0-9a-f]*)$/i.test(labels[labels.length - 1] ?? '')) return undefined;
  return name.toLowerCase();
}

function problem(text: string): UpstreamUrl {
  return { ok: false, problem: text };
}
