// Ambient typings for the parts of bencode@4, create-torrent@6 and bittorrent-protocol@5 torfleet uses: none of
// them ships types. Kept to what the code calls, so a wrong guess about the packages shows up as a type error here.

declare module 'bencode' {
  interface Bencode {
    /** Dict keys are sorted; strings are UTF-8; Uint8Arrays are byte strings; null/undefined values are skipped. */
    encode(value: unknown): Uint8Array;
    /** Byte strings come back as Uint8Array (no `encoding`), dicts as plain objects; throws on malformed input. */
    decode(data: Uint8Array, start?: number, end?: number, encoding?: string): unknown;
    byteLength(value: unknown): number;
  }
  const bencode: Bencode;
  export default bencode;
}

declare module 'create-torrent' {
  export interface CreateTorrentOptions {
    name?: string;
    creationDate?: Date;
    comment?: string;
    createdBy?: string;
    private?: boolean;
    pieceLength?: number;
    maxPieceLength?: number;
    announceList?: string[][];
    urlList?: string[];
  }
  /** `input` a file path (read as a stream, hashed piece by piece); the callback gets the bencoded .torrent. */
  export default function createTorrent(
    input: string,
    opts: CreateTorrentOptions,
    cb: (err: Error | null, torrent?: Uint8Array) => void,
  ): void;
}

declare module 'bittorrent-protocol' {
  import type { Writable } from 'node:stream';

  export interface WireExtensions {
    dht?: boolean;
    fast?: boolean;
    extended?: boolean;
  }

  export interface PeerRequest {
    readonly piece: number;
    readonly offset: number;
    readonly length: number;
  }

  /** The peer wire protocol as a streamx Duplex: pipe the socket into it and it into the socket. */
  export default class Wire {
    /**
     * `type` 'tcpIncoming' makes an encrypting wire the MSE/PE responder; `peEnabled` 0 = plaintext only,
     * 1 = MSE/PE or plaintext, 2 = MSE/PE with RC4 only.
     */
    constructor(type?: string, peEnabled?: 0 | 1 | 2);
    readonly destroyed: boolean;
    peerId: string | null;
    amChoking: boolean;
    peerInterested: boolean;
    readonly peerRequests: PeerRequest[];
    readonly uploaded: number;
    readonly _encryptionMethod: number | null | undefined;

    handshake(infoHash: string | Uint8Array, peerId: string | Uint8Array, extensions?: WireExtensions): void;
    bitfield(bitfield: Uint8Array): void;
    unchoke(): void;
    choke(): void;
    setKeepAlive(enable: boolean): void;
    /** Resumes an MSE/PE responder once the infohash behind a 'crypto-infohash' is known. */
    setInfoHash(infoHash: string): void;
    /** Ends the wire (the package's destroy is a graceful end). */
    destroy(): void;
    end(): void;
    pipe<T extends Writable>(destination: T): T;
    write(data: Uint8Array): boolean;

    /** Internal: handles the 4-byte length prefix of each message. */
    _onMessageLength(buffer: Uint8Array): void;
    /** Internal: the streamx write path every received byte goes through. */
    _write(data: Uint8Array, cb: (err: Error | null) => void): void;

    on(event: 'handshake', listener: (infoHash: string, peerId: string, extensions: WireExtensions) => void): this;
    /** MSE/PE responder: the hex SHA-1 of ('req2' + infohash) the initiator sent; answer with setInfoHash. */
    on(event: 'crypto-infohash', listener: (req2Hash: string) => void): this;
    on(event: 'interested' | 'uninterested' | 'drain' | 'close' | 'end' | 'finish', listener: () => void): this;
    on(
      event: 'request',
      listener: (
        index: number,
        offset: number,
        length: number,
        respond: (err: Error | null, block?: Uint8Array) => void,
      ) => void,
    ): this;
    on(event: 'cancel', listener: (index: number, offset: number, length: number) => void): this;
    on(event: 'upload', listener: (bytes: number) => void): this;
    on(event: 'error', listener: (error: Error) => void): this;
  }
}
