import type { Target } from './route-types.js';

/** SOCKS5 (RFC 1928) and its user/password subnegotiation (RFC 1929): the byte values, and pure encoders. */
export const SOCKS_VERSION = 0x05;
export const AUTH_VERSION = 0x01;
export const METHOD_NONE = 0x00;
export const METHOD_USER_PASS = 0x02;
export const METHOD_REFUSED = 0xff;
export const COMMAND_CONNECT = 0x01;
export const ATYP_IPV4 = 0x01;
export const ATYP_DOMAIN = 0x03;
export const ATYP_IPV6 = 0x04;

/** A reply with BND.ADDR 0.0.0.0:0 (clients ignore it for CONNECT; the member's address is nobody's business). */
export function socksReply(code: number): Buffer {
  return Buffer.from([SOCKS_VERSION, code, 0x00, ATYP_IPV4, 0, 0, 0, 0, 0, 0]);
}

export function authReply(ok: boolean): Buffer {
  return Buffer.from([AUTH_VERSION, ok ? 0x00 : 0x01]);
}

/** The method the gateway picks from the client's list: user/password first (it names the route), else none. */
export function chooseMethod(methods: Buffer, noAuthAllowed: boolean): number {
  if (methods.includes(METHOD_USER_PASS)) return METHOD_USER_PASS;
  if (noAuthAllowed && methods.includes(METHOD_NONE)) return METHOD_NONE;
  return METHOD_REFUSED;
}

export function ipv4FromBytes(bytes: Buffer): string {
  return [...bytes.subarray(0, 4)].join('.');
}

/** The IPv6 literal (shortest form, RFC 5952) of 16 bytes: no brackets, as Target wants. */
export function ipv6FromBytes(bytes: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
}

/** A domain name from the request, or null when it is not printable ASCII (a name never resolved here). */
export function domainFromBytes(bytes: Buffer): string | null {
  const name = bytes.toString('latin1');
  return /^[\x21-\x7e]+$/.test(name) ? name : null;
}

export function targetOf(host: string, portBytes: Buffer): Target {
  return { host, port: portBytes.readUInt16BE(0) };
}
