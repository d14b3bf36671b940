import type { Socket } from 'node:net';
import type { Cancel } from './cancel.js';
import { HopError } from './hop-error.js';
import type { Target } from './route-types.js';
import { readFrame, writeHandshake } from './frame-reader.js';
import { checkTargetHost, ipv6Bytes } from './target-address.js';

export interface SocksCredentials {
  readonly user: string;
  readonly password: string;
}

const NO_AUTH = 0x00;
const USER_PASSWORD = 0x02;
const NO_ACCEPTABLE = 0xff;

/**
 * The client side of SOCKS5 (RFC 1928, RFC 1929 user/password) over an EXISTING connected socket, so it runs
 * inside a corporate CONNECT tunnel as well as on a direct TCP connection. A host name goes to the proxy as
 * ATYP 3 (resolved by the proxy, never here); IP literals as ATYP 1/4. Resolves when the tunnel to `target` is
 * up; the socket is then paused with any early tunnel bytes put back. Throws a HopError; never destroys.
 */
export async function socks5Connect(
  socket: Socket,
  target: Target,
  credentials: SocksCredentials | null,
  cancel: Cancel,
  what: string,
): Promise<void> {
  const request = connectRequest(target);
  // With credentials both methods are offered: tor picks user/password when offered (its SOCKS isolation; unless
  // the port says PreferSOCKSNoAuth), an open proxy may pick none. Without, only "no authentication".
  const offered = credentials ? [USER_PASSWORD, NO_AUTH] : [NO_AUTH];
  writeHandshake(socket, Buffer.from([0x05, offered.length, ...offered]));
  const choice = await readFrame(socket, cancel, what, 2, () => 2);
  if (choice[0] !== 0x05) throw notSocks(what, choice);
  const method = choice[1] ?? NO_ACCEPTABLE;
  if (method === NO_ACCEPTABLE) {
    const want = credentials
      ? 'accepts neither our user/password nor no authentication'
      : 'wants authentication; none is set';
    throw new HopError('upstream-auth', `${what}: the SOCKS5 proxy ${want}`, true);
  }
  if (!offered.includes(method)) {
    throw new HopError(
      'refused',
      `${what}: the SOCKS5 proxy chose method ${hex(method)}, which was not offered`,
      false,
    );
  }
  if (credentials && method === USER_PASSWORD) {
    writeHandshake(socket, authRequest(credentials, what));
    const status = await readFrame(socket, cancel, what, 2, () => 2);
    if (status[1] !== 0x00) {
      throw new HopError('upstream-auth', `${what}: the SOCKS5 proxy refused the user name and password`, true);
    }
  }
  writeHandshake(socket, request);
  await readFrame(socket, cancel, what, 262, (reply) => replyLength(reply, what));
}

/** The length of a CONNECT reply, or undefined until its header shows; a failure reply throws at once. */
export function replyLength(reply: Buffer, what: string): number | undefined {
  if (reply.length < 2) return undefined;
  if (reply[0] !== 0x05) throw notSocks(what, reply);
  if (reply[1] !== 0x00) throw replyError(reply[1] ?? 0, what);
  if (reply.length < 5) return undefined;
  switch (reply[3]) {
    case 0x01:
      return 10;
    case 0x04:
      return 22;
    case 0x03:
      return 7 + (reply[4] ?? 0);
    default:
      throw new HopError(
        'refused',
        `${what}: the SOCKS5 proxy answered with an unknown address type ${hex(reply[3])}`,
        false,
      );
  }
}

/** RFC 1928 reply codes: the proxy's own trouble counts against it; "could not reach the target" does not. */
export function replyError(code: number, what: string): HopError {
  const text = REPLY_TEXT[code] ?? 'an unknown reply code';
  const message = `${what}: the SOCKS5 proxy answered ${hex(code)} (${text})`;
  if (code === 0x02 || code === 0x03 || code === 0x04 || code === 0x05)
    return new HopError('target-unreachable', message, true);
  if (code === 0x06) return new HopError('timeout', message, true);
  return new HopError('refused', message, false);
}

const REPLY_TEXT: Readonly<Record<number, string>> = {
  0x01: 'general failure',
  0x02: 'not allowed by its rules',
  0x03: 'network unreachable',
  0x04: 'host unreachable',
  0x05: 'connection refused by the target',
  0x06: 'TTL expired: the target did not answer in time',
  0x07: 'command not supported',
  0x08: 'address type not supported',
};

function connectRequest(target: Target): Buffer {
  const head = Buffer.from([0x05, 0x01, 0x00]);
  const port = Buffer.alloc(2);
  port.writeUInt16BE(target.port);
  switch (checkTargetHost(target)) {
    case 'ipv4':
      return Buffer.concat([head, Buffer.from([0x01, ...target.host.split('.').map(Number)]), port]);
    case 'ipv6':
      return Buffer.concat([head, Buffer.from([0x04]), ipv6Bytes(target.host), port]);
    case 'name': {
      const name = Buffer.from(target.host, 'latin1');
      return Buffer.concat([head, Buffer.from([0x03, name.length]), name, port]);
    }
  }
}

function authRequest(credentials: SocksCredentials, what: string): Buffer {
  const user = Buffer.from(credentials.user, 'utf8');
  const password = Buffer.from(credentials.password, 'utf8');
  if (user.length === 0 || user.length > 255 || password.length > 255) {
    throw new HopError(
      'upstream-auth',
      `${what}: SOCKS5 needs a user name of 1-255 bytes and a password of at most 255 bytes; fix the auth of this upstream`,
      true,
    );
  }
  return Buffer.concat([Buffer.from([0x01, user.length]), user, Buffer.from([password.length]), password]);
}

function notSocks(what: string, reply: Buffer): HopError {
  return new HopError(
    'refused',
    `${what}: not a SOCKS5 answer (first bytes ${reply.subarray(0, 8).toString('hex')})`,
    false,
  );
}

function hex(value: number | undefined): string {
  return `0x${(value ?? 0).toString(16).padStart(2, '0')}`;
}
