import type { NodeSnapshot, NodeSourceName } from './relay.js';

/** What the store remembers of a source between refreshes, for conditional requests. */
export interface SourceCheckpoint {
  readonly lastModified: string | null;
  readonly relaysPublished: Date | null;
}

export type NodeFetchResult =
  | { readonly kind: 'updated'; readonly snapshot: NodeSnapshot; readonly lastModified: string | null }
  | { readonly kind: 'not_modified' };

/** Where relays come from: Onionoo, or a consensus plus a GeoIP file. */
export interface NodeSource {
  readonly name: NodeSourceName;
  /** The URL or file it reads; with `name`, the key of its checkpoint. */
  readonly location: string;
  fetch(checkpoint: SourceCheckpoint): Promise<NodeFetchResult>;
}
