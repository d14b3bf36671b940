import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import bencode from 'bencode';
import createTorrent from 'create-torrent';

export interface MadeTorrent {
  /** The bencoded .torrent file. */
  readonly torrent: Buffer;
  /** SHA-1 of the bencoded info dict, 40 lowercase hex digits. */
  readonly infoHash: string;
  readonly pieceLength: number;
  /** The content's size in bytes. */
  readonly length: number;
}

export interface TorrentInfo {
  readonly infoHash: string;
  readonly name: string;
  readonly pieceLength: number;
  readonly length: number;
  readonly pieceCount: number;
  readonly private: boolean;
  readonly announce: string | null;
  readonly announceList: readonly (readonly string[])[];
}

/**
 * A private single-file torrent of the content at `contentPath`, named `name`, announcing only to `announceUrl`.
 * The piece length is create-torrent's default (about the square root of the size, 16 KiB to 4 MiB). The
 * .torrent holds nothing that changes between runs (no creation date, no url-list, no default public trackers),
 * so the same content, name and tracker always give the same bytes and infohash.
 */
export async function makeTorrent(options: {
  contentPath: string;
  name: string;
  announceUrl: string;
}): Promise<MadeTorrent> {
  const { size } = await stat(options.contentPath);
  if (size === 0) throw new RangeError(`${options.contentPath} is empty: a torrent needs at least one byte`);
  if (options.name === '' || options.name.includes('/')) {
    throw new RangeError(`torrent name ${JSON.stringify(options.name)} is empty or holds a '/': give a file name`);
  }
  const created = await new Promise<Uint8Array>((resolve, reject) => {
    createTorrent(
      options.contentPath,
      { name: options.name, private: true, announceList: [[options.announceUrl]] },
      (err, torrent) => {
        if (err !== null || torrent === undefined) reject(err ?? new Error('create-torrent gave no torrent'));
        else resolve(torrent);
      },
    );
  });
  const meta = asDict(bencode.decode(created), 'torrent');
  // The creation date is the only time-dependent field; url-list is dropped so no web seed is ever offered.
  delete meta['creation date'];
  delete meta['url-list'];
  const torrent = Buffer.from(bencode.encode(meta));
  const info = parseTorrentInfo(torrent);
  if (info.length !== size) throw new Error(`${options.contentPath} changed while its torrent was made`);
  return { torrent, infoHash: info.infoHash, pieceLength: info.pieceLength, length: info.length };
}

/** Reads what torfleet needs from a single-file .torrent; throws a RangeError on anything else. */
export function parseTorrentInfo(buf: Uint8Array): TorrentInfo {
  const meta = asDict(bencode.decode(buf), 'torrent');
  const info = asDict(meta.info, 'info');
  const name = asBytes(info.name, 'info.name');
  const pieces = asBytes(info.pieces, 'info.pieces');
  const pieceLength = asInteger(info['piece length'], 'info.piece length');
  const length = asInteger(info.length, 'info.length');
  if (pieces.length % 20 !== 0 || pieces.length / 20 !== Math.ceil(length / pieceLength)) {
    throw new RangeError('info.pieces does not hold one SHA-1 per piece');
  }
  const announceList = Array.isArray(meta['announce-list'])
    ? meta['announce-list'].map((tier, i) =>
        Array.isArray(tier) ? tier.map((url, j) => text(asBytes(url, `announce-list[${i}][${j}]`))) : [],
      )
    : [];
  return {
    infoHash: createHash('sha1').update(bencode.encode(info)).digest('hex'),
    name: text(name),
    pieceLength,
    length,
    pieceCount: pieces.length / 20,
    private: info.private === 1,
    announce: meta.announce instanceof Uint8Array ? text(meta.announce) : null,
    announceList,
  };
}

/** A magnet link (BEP 9) for the torrent: `xt` the infohash, `dn` the name, `xl` the size, `tr` the tracker. */
export function magnetOf(options: { infoHash: string; name: string; length: number; announceUrl: string }): string {
  if (!/^[0-9a-f]{40}$/.test(options.infoHash)) throw new RangeError('infoHash must be 40 lowercase hex digits');
  return (
    `magnet:?xt=urn:btih:${options.infoHash}&dn=${encodeURIComponent(options.name)}` +
    `&xl=${String(options.length)}&tr=${encodeURIComponent(options.announceUrl)}`
  );
}

type Dict = Record<string, unknown>;

function asDict(value: unknown, what: string): Dict {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) {
    throw new RangeError(`${what} is not a bencoded dictionary`);
  }
  return value as Dict;
}

function asBytes(value: unknown, what: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new RangeError(`${what} is not a byte string`);
  return value;
}

function asInteger(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new RangeError(`${what} is not a positive integer`);
  }
  return value;
}

function text(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('utf8');
}
