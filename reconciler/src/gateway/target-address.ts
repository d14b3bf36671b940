import { isIPv4, isIPv6 } from 'node:net';
import { HopError } from './hop-error.js';
import type { Target } from './route-types.js';

/** A DNS name as it may travel to a proxy: letters, digits, `-`, `_`, `.`; at most 255 bytes (SOCKS5's limit). */
const HOST_NAME = /^[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,253}[A-Za-z0-9_.])?$/;

/**
 * The target's host checked before it goes on the wire: an IPv4/IPv6 literal or a host name (never resolved
 * here). A CR, LF, space or colon in a name would let a client inject into a CONNECT line: refused at once.
 */
export function checkTargetHost(target: Target): 'ipv4' | 'ipv6' | 'name' {
  if (isIPv4(target.host)) return 'ipv4';
  if (isIPv6(target.host)) return 'ipv6';
  if (HOST_NAME.test(target.host)) return 'name';
  throw new HopError(
    'target-unreachable',
    `target ${JSON.stringify(target.host.slice(0, 80))} is not a host name or IP literal`,
    true,
  );
}

/** `host:port` for a CONNECT line and its Host header (`[v6]:port` for IPv6). */
export function authority(target: Target): string {
  return checkTargetHost(target) === 'ipv6' ? `[${target.host}]:${target.port}` : `${target.host}:${target.port}`;
}

/** The 16 bytes of an IPv6 literal (as `isIPv6` accepts it; a zone `%eth0` is dropped: SOCKS5 cannot carry it). */
export function ipv6Bytes(literal: string): Buffer {
  let text = literal.replace(/%.*$/, '');
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)?.[1];
  if (v4) {
    const [a = 0, b = 0, c = 0, d = 0] = v4.split('.').map(Number);
    text = `${text.slice(0, -v4.length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const groups = (part: string): number[] => (part === '' ? [] : part.split(':').map((group) => parseInt(group, 16)));
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const all = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  const bytes = Buffer.alloc(16);
  all.forEach((group, index) => bytes.writeUInt16BE(group, index * 2));
  return bytes;
}
