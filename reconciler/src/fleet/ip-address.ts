import { isIP } from 'node:net';

/**
 * The canonical text of an IP literal, so that two spellings of one address compare equal:
 * IPv4 as dotted decimal; IPv6 fully expanded in lower case (`0000:…:0001`); an IPv4-mapped
 * IPv6 address (`::ffff:127.0.0.1`) as the IPv4 address it maps, since a socket bound to it
 * takes that IPv4 port. Undefined for anything that is not an IP literal (zone ids included).
 */
export function canonicalAddress(text: string): string | undefined {
  const family = isIP(text);
  if (family === 4) return text;
  if (family !== 6 || text.includes('%')) return undefined;
  const groups = ipv6Groups(text);
  if (!groups) return undefined;
  const mapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
  if (mapped) {
    const [high = 0, low = 0] = groups.slice(6);
    return [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.');
  }
  return groups.map((g) => g.toString(16).padStart(4, '0')).join(':');
}

/** Whether an address is a wildcard (`0.0.0.0`, `::` in any spelling): it takes a port on every address. */
export function isWildcardAddress(text: string): boolean {
  const canonical = canonicalAddress(text);
  return canonical === '0.0.0.0' || canonical === '0000:0000:0000:0000:0000:0000:0000:0000';
}

/** Whether two bind addresses take the same ports: the same address in any spelling, or either a wildcard. */
export function addressesOverlap(a: string, b: string): boolean {
  if (isWildcardAddress(a) || isWildcardAddress(b)) return true;
  const left = canonicalAddress(a);
  return left !== undefined && left === canonicalAddress(b);
}

/** Whether an address is on the loopback network (127.0.0.0/8, ::1, or an IPv4-mapped loopback address). */
export function isLoopbackAddress(text: string): boolean {
  const canonical = canonicalAddress(text);
  if (canonical === undefined) return false;
  return canonical.startsWith('127.') || canonical === '0000:0000:0000:0000:0000:0000:0000:0001';
}

function ipv6Groups(text: string): number[] | undefined {
  let head = text;
  const tail: number[] = [];
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted?.[1]) {
    const octets = dotted[1].split('.').map(Number);
    tail.push(((octets[0] ?? 0) << 8) | (octets[1] ?? 0), ((octets[2] ?? 0) << 8) | (octets[3] ?? 0));
    head = text.slice(0, -dotted[1].length);
    if (head.endsWith(':') && !head.endsWith('::')) head = head.slice(0, -1);
  }
  const parse = (part: string): number[] => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const halves = head.split('::');
  if (halves.length > 2) return undefined;
  const left = parse(halves[0] ?? '');
  const right = halves.length === 2 ? parse(halves[1] ?? '') : [];
  const missing = 8 - tail.length - left.length - right.length;
  if (missing < 0 || (halves.length === 1 && missing !== 0)) return undefined;
  const groups = [...left, ...Array<number>(halves.length === 2 ? missing : 0).fill(0), ...right, ...tail];
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : undefined;
}

export interface Endpoint {
  readonly address: string;
  readonly family: 4 | 6;
  readonly port: number;
}

/**
 * Parses `IPV4:PORT` or `[IPV6]:PORT` exactly as tor needs it: a real IP literal (no host name,
 * no zone id), brackets around IPv6 and only around IPv6, a decimal port 1-65535 without sign or
 * leading zero. Undefined when the text is anything else.
 */
export function parseEndpoint(text: string): Endpoint | undefined {
  const match = /^(?:\[([^\]]*)\]|([^[\]:]*)):([1-9][0-9]{0,4})$/.exec(text);
  if (!match) return undefined;
  const port = Number(match[3]);
  if (port > 65535) return undefined;
  const v6 = match[1];
  if (v6 !== undefined) {
    return isIP(v6) === 6 && !v6.includes('%') ? { address: v6, family: 6, port } : undefined;
  }
  const v4 = match[2] ?? '';
  return isIP(v4) === 4 ? { address: v4, family: 4, port } : undefined;
}
