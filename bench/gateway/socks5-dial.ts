/** A minimal SOCKS5 client (no auth, CONNECT): the bench's "direct to microsocks" client. */
import net from 'node:net';
import { readUntil } from './read-bytes.js';

/** The SOCKS5 CONNECT request; a name goes as ATYP 3 so the SOCKS server resolves it, never this process. */
export function socks5ConnectRequest(host: string, port: number): Buffer {
  const portBytes = [port >> 8, port & 0xff];
  if (net.isIPv4(host)) return Buffer.from([5, 1, 0, 1, ...host.split('.').map(Number), ...portBytes]);
  if (net.isIPv6(host)) throw new Error(`socks5: IPv6 target ${host} is not needed by the bench`);
  const name = Buffer.from(host, 'utf8');
  if (name.length > 255) throw new Error(`socks5: host name longer than 255 bytes`);
  return Buffer.concat([Buffer.from([5, 1, 0, 3, name.length]), name, Buffer.from(portBytes)]);
}

/** Length of a whole CONNECT reply (VER REP RSV ATYP ADDR PORT), or null if not yet. */
export function socks5ReplyLength(buffer: Buffer): number | null {
  if (buffer.length < 5) return null;
  const atyp = buffer[3];
  const address = atyp === 1 ? 4 : atyp === 4 ? 16 : atyp === 3 ? 1 + (buffer[4] ?? 0) : -1;
  if (address < 0) throw new Error(`socks5: reply with unknown address type ${String(atyp)}`);
  const total = 4 + address + 2;
  return buffer.length >= total ? total : null;
}

export interface SocksTarget {
  readonly socksPort: number;
  readonly host: string;
  readonly port: number;
}

/** A socket tunnelled through the SOCKS5 server on loopback to host:port; rejects on refusal or after `timeoutMs`. */
export async function socks5Connect(target: SocksTarget, timeoutMs: number): Promise<net.Socket> {
  const socket = net.connect({ port: target.socksPort, host: '127.0.0.1', noDelay: true });
  socket.on('error', () => undefined); // reported by the read below; this only keeps a late error from crashing
  try {
    socket.write(Buffer.from([5, 1, 0]));
    const method = await readUntil(socket, (b) => (b.length >= 2 ? 2 : null), 'socks5 greeting', timeoutMs);
    if (method[0] !== 5 || method[1] !== 0)
      throw new Error(`socks5: server refused no-auth (${method.toString('hex')})`);
    socket.write(socks5ConnectRequest(target.host, target.port));
    const reply = await readUntil(socket, socks5ReplyLength, 'socks5 connect reply', timeoutMs);
    if (reply[1] !== 0)
      throw new Error(`socks5: CONNECT ${target.host}:${target.port} refused, REP ${String(reply[1])}`);
    return socket;
  } catch (error) {
    socket.destroy();
    throw error;
  }
}
