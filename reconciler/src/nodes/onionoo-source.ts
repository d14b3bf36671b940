import { TorfleetError } from '../errors.js';
import { fetchStream, type FetchDocumentOptions } from '../http-client/fetch-document.js';
import type { NodeFetchResult, NodeSource, SourceCheckpoint } from './node-source.js';
import { ONIONOO_FIELDS, OnionooDetailsParser } from './onionoo-details.js';

/**
 * Largest details document read, decompressed. torfleet's answer (11 fields) is ~0.4 KB a relay, one with
 * every field ~1.5 KB: 13,000 relays with every field are 20 MB. Past this it is not a details document.
 */
export const ONIONOO_MAX_BYTES = 64 * 1024 * 1024;

export type OnionooFetchOptions = Omit<FetchDocumentOptions, 'what' | 'headers'>;

/** The Onionoo details URL torfleet reads: running relays, only the fields it uses. */
export function onionooDetailsUrl(baseUrl: string): string {
  const base = baseUrl.replace(/\/+$/, '');
  return `${base}/details?type=relay&running=true&fields=${ONIONOO_FIELDS.join(',')}`;
}

/** Relays from an Onionoo server, with If-Modified-Since so an unchanged document costs a 304. */
export function createOnionooSource(baseUrl: string, options: OnionooFetchOptions = {}): NodeSource {
  const url = onionooDetailsUrl(baseUrl);
  return {
    name: 'onionoo',
    location: baseUrl,
    async fetch(checkpoint: SourceCheckpoint): Promise<NodeFetchResult> {
      const headers: Record<string, string> = { accept: 'application/json' };
      if (checkpoint.lastModified) headers['if-modified-since'] = checkpoint.lastModified;
      const origin = `onionoo details at ${url}`;
      const { head, result } = await fetchStream(
        url,
        { maxBytes: ONIONOO_MAX_BYTES, ...options, what: 'onionoo details', headers },
        async (head, body) => {
          const type = head.contentType?.toLowerCase();
          if (type !== undefined && !type.includes('json')) {
            throw new TorfleetError(
              'NODE_SOURCE_INVALID',
              'generic',
              `${origin} answered content-type "${type}", not JSON; check TORFLEET_ONIONOO_URL`,
            );
          }
          const parser = new OnionooDetailsParser(origin);
          for await (const chunk of body) parser.push(chunk);
          return parser.finish();
        },
      );
      if (!result) return { kind: 'not_modified' };
      return { kind: 'updated', snapshot: result, lastModified: head.lastModified ?? null };
    },
  };
}
