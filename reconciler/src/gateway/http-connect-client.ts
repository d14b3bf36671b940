import type { Socket } from 'node:net';
import type { Cancel } from './cancel.js';
import { HopError } from './hop-error.js';
import type { Target } from './route-types.js';
import { readFrame, writeHandshake } from './frame-reader.js';
import { authority } from './target-address.js';

/** A response head larger than this is not a proxy's answer to CONNECT. */
export const MAX_CONNECT_HEAD_BYTES = 16 * 1024;

const HEAD_END = Buffer.from('\r\n\r\n');
const STATUS_LINE = /^HTTP\/1\.[01] (\d{3})(?: ([^\r\n]*))?\r\n/;

/**
 * `CONNECT target` at an HTTP proxy over an existing connected socket (a direct TCP connection, or a tunnel
 * through the corporate proxy). Resolves when the proxy answers 2xx; bytes after the head are the tunnel's and
 * are put back. `proxyAuthorization` (`Basic ...`) is sent to this proxy only. Throws a HopError; never destroys.
 */
export async function httpConnect(
  socket: Socket,
  target: Target,
  proxyAuthorization: string | null,
  cancel: Cancel,
  what: string,
): Promise<void> {
  const host = authority(target);
  const auth = proxyAuthorization === null ? '' : `Proxy-Authorization: ${proxyAuthorization}\r\n`;
  writeHandshake(socket, `CONNECT ${host} HTTP/1.1\r\nHost: ${host}\r\n${auth}\r\n`);
  const head = await readFrame(socket, cancel, what, MAX_CONNECT_HEAD_BYTES, (buffered) => headLength(buffered, what));
  const status = STATUS_LINE.exec(head.toString('latin1'));
  if (!status) throw garbage(what, head);
  const code = Number(status[1]);
  if (code >= 200 && code < 300) return;
  throw statusError(code, printable(status[2] ?? ''), host, what);
}

/** The length of the response head once its blank line arrived; anything that does not start like HTTP fails. */
function headLength(buffered: Buffer, what: string): number | undefined {
  const start = buffered.subarray(0, 5).toString('latin1');
  if (!'HTTP/'.startsWith(start)) throw garbage(what, buffered);
  const end = buffered.indexOf(HEAD_END);
  return end < 0 ? undefined : end + HEAD_END.length;
}

/**
 * What a proxy's status means for this dial. 407, and 401 (tinyproxy 1.11 answers a refused CONNECT login so):
 * our credentials. 5xx (tinyproxy says 500 "Unable to connect", squid 503, most 502) and 403 (a port or site it
 * will not tunnel to): the proxy works, the target is out of its reach (504: not in time). Anything else (400,
 * 405, 3xx...) means it did not take our CONNECT at all: the proxy's own fault.
 */
export function statusError(code: number, reasonPhrase: string, host: string, what: string): HopError {
  const message = `${what}: the HTTP proxy answered CONNECT ${host} with ${code} ${reasonPhrase}`.trimEnd();
  if (code === 407 || code === 401)
    return new HopError('upstream-auth', `${message} (it refused our credentials, or wants some)`, true);
  if (code === 504) return new HopError('timeout', message, true);
  if (code === 403 || (code >= 500 && code < 600)) return new HopError('target-unreachable', message, true);
  return new HopError('refused', message, false);
}

function garbage(what: string, bytes: Buffer): HopError {
  const sample = printable(bytes.subarray(0, 40).toString('latin1'));
  return new HopError(
    'refused',
    `${what}: the proxy's answer to CONNECT is not HTTP (it began ${JSON.stringify(sample)})`,
    false,
  );
}

/** At most 80 visible characters: a hostile proxy's text never floods a log or carries control bytes. */
function printable(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, 80);
}
