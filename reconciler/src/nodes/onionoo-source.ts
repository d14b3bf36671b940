import { TorfleetError } from '../errors.js';
import { fetchDocument, type FetchDocumentOptions } from '../http-client/fetch-document.js';
import type { NodeFetchResult, NodeSource, SourceCheckpoint } from './node-source.js';
import { ONIONOO_FIELDS, parseOnionooDetails } from './onionoo-details.js';

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
      const response = await fetchDocument(url, { ...options, what: 'onionoo details', headers });
      if (response.status === 304) return { kind: 'not_modified' };
      const type = response.contentType?.toLowerCase();
      if (type !== undefined && !type.includes('json')) {
        throw new TorfleetError(
          'NODE_SOURCE_INVALID',
          'generic',
          `onionoo details at ${url} answered content-type "${type}", not JSON; check TORFLEET_ONIONOO_URL`,
        );
      }
      return {
        kind: 'updated',
        snapshot: parseOnionooDetails(response.body, `onionoo details at ${url}`),
        lastModified: response.lastModified ?? null,
      };
    },
  };
}
