import { isIPv4, isIPv6 } from 'node:net';
import bencode from 'bencode';
import type { TrackedPeer } from './tracker-peers.js';

export interface AnnounceAnswer {
  readonly intervalSeconds: number;
  readonly complete: number;
  readonly incomplete: number;
  readonly peers: readonly TrackedPeer[];
  readonly compact: boolean;
  readonly noPeerId: boolean;
}

/**
 * The bencoded answer to an announce. Compact (BEP 23): `peers` is 6 bytes per IPv4 peer (address, port, big
 * endian) and `peers6` (BEP 7) 18 bytes per IPv6 peer; otherwise `peers` is a list of {ip, peer id, port}.
 */
export function encodeAnnounceAnswer(answer: AnnounceAnswer): Buffer {
  const body: Record<string, unknown> = {
    complete: answer.complete,
    incomplete: answer.incomplete,
    interval: answer.intervalSeconds,
    'min interval': Math.max(1, Math.floor(answer.intervalSeconds / 2)),
  };
  if (answer.compact) {
    const { v4, v6 } = compactPeers(answer.peers);
    body.peers = v4;
    if (v6.length > 0) body.peers6 = v6;
  } else {
    body.peers = answer.peers.map((peer) => ({
      ip: peer.ip,
      port: peer.port,
      ...(answer.noPeerId || peer.peerId === null ? {} : { 'peer id': peer.peerId }),
    }));
  }
  return Buffer.from(bencode.encode(body));
}

export function encodeFailure(reason: string): Buffer {
  return Buffer.from(bencode.encode({ 'failure reason': reason }));
}

export function compactPeers(peers: readonly TrackedPeer[]): { v4: Buffer; v6: Buffer } {
  const v4: Buffer[] = [];
  const v6: Buffer[] = [];
  for (const peer of peers) {
    const port = Buffer.alloc(2);
    port.writeUInt16BE(peer.port);
    if (isIPv4(peer.ip)) v4.push(Buffer.from(peer.ip.split('.').map(Number)), port);
    else if (isIPv6(peer.ip)) v6.push(ipv6Bytes(peer.ip), port);
  }
  return { v4: Buffer.concat(v4), v6: Buffer.concat(v6) };
}

/** The 16 bytes of a valid IPv6 address (`::` and a trailing dotted IPv4 part allowed). */
export function ipv6Bytes(ip: string): Buffer {
  let text = ip.split('%')[0] ?? ip; // no zone id
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted?.[1] !== undefined) {
    const [a = 0, b = 0, c = 0, d = 0] = dotted[1].split('.').map(Number);
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = new Array<string>(8 - headGroups.length - tailGroups.length).fill('0');
  const groups = [...headGroups, ...(tail === undefined ? [] : zeros), ...tailGroups];
  const out = Buffer.alloc(16);
  groups.forEach((group, i) => out.writeUInt16BE(parseInt(group, 16), i * 2));
  return out;
}
