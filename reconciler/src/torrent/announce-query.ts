/** One announce (BEP 3), checked. `infoHash` is hex; `peerId` the raw 20 bytes. */
export interface Announce {
  readonly infoHash: string;
  readonly peerId: Buffer;
  readonly port: number;
  readonly uploaded: number;
  readonly downloaded: number;
  readonly left: number;
  readonly event: 'started' | 'completed' | 'stopped' | 'paused' | null;
  /** Peers the client asks for, when it says. */
  readonly numwant: number | null;
  /** BEP 23 compact peers: the default; a client must say compact=0 for the dictionary list. */
  readonly compact: boolean;
  readonly noPeerId: boolean;
  /** The `ip` parameter, as given; the tracker decides whether to believe it. */
  readonly ip: string | null;
}

export type AnnounceResult =
  { readonly ok: true; readonly announce: Announce } | { readonly ok: false; reason: string };

/** Longest query string read; real announces are ~300 bytes. */
export const MAX_QUERY_LENGTH = 2048;
const MAX_PARAMS = 32;
const EVENTS = new Set(['started', 'completed', 'stopped', 'paused']);

/**
 * Splits a query string into parameters, percent-decoded BYTE-wise: info_hash and peer_id are 20 raw bytes, which
 * URLSearchParams would mangle by decoding them as UTF-8. `+` is a space (form encoding). A malformed escape, a
 * repeated name or too many parameters is an error (a string), never a throw.
 */
export function parseQueryBytes(query: string): Map<string, Buffer> | string {
  if (query.length > MAX_QUERY_LENGTH) return `query string longer than ${String(MAX_QUERY_LENGTH)} characters`;
  const params = new Map<string, Buffer>();
  if (query === '') return params;
  const parts = query.split('&');
  if (parts.length > MAX_PARAMS) return `more than ${String(MAX_PARAMS)} parameters`;
  for (const part of parts) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = percentDecode(eq === -1 ? part : part.slice(0, eq));
    const value = percentDecode(eq === -1 ? '' : part.slice(eq + 1));
    if (name === null || value === null) return 'malformed percent-encoding';
    const key = name.toString('latin1');
    if (params.has(key)) return `parameter ${JSON.stringify(key.slice(0, 40))} given more than once`;
    params.set(key, value);
  }
  return params;
}

function percentDecode(text: string): Buffer | null {
  const out = Buffer.alloc(text.length);
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x25) {
      const hex = text.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) return null;
      out[n++] = parseInt(hex, 16);
      i += 2;
    } else if (c === 0x2b) {
      out[n++] = 0x20;
    } else if (c > 0x7e || c < 0x21) {
      return null; // a raw byte outside printable ASCII: not a valid query
    } else {
      out[n++] = c;
    }
  }
  return out.subarray(0, n);
}

/** Reads and checks an announce's parameters; the first problem found is the failure reason. */
export function parseAnnounce(query: string): AnnounceResult {
  const params = parseQueryBytes(query);
  if (typeof params === 'string') return { ok: false, reason: params };
  const infoHash = params.get('info_hash');
  if (infoHash?.length !== 20) return { ok: false, reason: 'info_hash missing or not 20 bytes' };
  const peerId = params.get('peer_id');
  if (peerId?.length !== 20) return { ok: false, reason: 'peer_id missing or not 20 bytes' };
  const port = integer(params.get('port'));
  if (port === null || port < 1 || port > 65_535) return { ok: false, reason: 'port missing or not 1-65535' };
  const counters: Record<'uploaded' | 'downloaded' | 'left', number> = { uploaded: 0, downloaded: 0, left: 0 };
  for (const name of ['uploaded', 'downloaded', 'left'] as const) {
    const raw = params.get(name);
    const value = integer(raw);
    if (name === 'left' ? value === null : raw !== undefined && value === null) {
      return { ok: false, reason: `${name} ${raw === undefined ? 'missing' : 'not a non-negative integer'}` };
    }
    counters[name] = value ?? 0;
  }
  const eventText = params.get('event')?.toString('latin1') ?? '';
  if (eventText !== '' && !EVENTS.has(eventText)) return { ok: false, reason: 'event not started/completed/stopped' };
  const numwantRaw = params.get('numwant');
  const numwant = numwantRaw === undefined ? null : integer(numwantRaw);
  if (numwantRaw !== undefined && numwant === null) return { ok: false, reason: 'numwant not a non-negative integer' };
  const ip = params.get('ip')?.toString('latin1') ?? null;
  return {
    ok: true,
    announce: {
      infoHash: infoHash.toString('hex'),
      peerId,
      port,
      ...counters,
      event: eventText === '' ? null : (eventText as Announce['event']),
      numwant,
      compact: params.get('compact')?.toString('latin1') !== '0',
      noPeerId: params.get('no_peer_id')?.toString('latin1') === '1',
      ip,
    },
  };
}

/** A non-negative decimal integer of at most 16 digits (byte counts up to petabytes), else null. */
function integer(raw: Buffer | undefined): number | null {
  if (raw === undefined) return null;
  const text = raw.toString('latin1');
  if (!/^[0-9]{1,16}$/.test(text)) return null;
  return Number(text);
}
