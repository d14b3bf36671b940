import type { GeoSelector } from '../fleet/fleet-types.js';
import { quoteText } from '../fleet/display-text.js';
import { assignedCountry } from '../nodes/country-codes.js';

/** What a lease's `region` asks for: proxies whose exits are in a geo, or the proxies of one pool. */
export type RegionChoice =
  | { readonly kind: 'geo'; readonly geo: GeoSelector; readonly label: string }
  | { readonly kind: 'pool'; readonly pool: string; readonly label: string };

export type RegionResolution =
  { readonly ok: true; readonly region: RegionChoice } | { readonly ok: false; readonly message: string };

export interface RegionNames {
  /** The fleet's pool names. */
  readonly pools: readonly string[];
  /** fleet.yaml `broker.regions` (checked by the loader: each maps to US, NON_US, a country or a pool). */
  readonly regions: Readonly<Record<string, string>>;
}

/** Longest piece of a client's region text quoted back in a refusal. */
const MAX_REGION_LENGTH = 64;

/**
 * A request's `region`, in this order: `US` or `NON_US` (any case); a pool's name (exactly); a cloud region name
 * of `broker.regions` (exactly), as what it maps to; an assigned ISO 3166-1 alpha-2 code (any case). So a pool
 * named like a country code (`de`) wins over the country for that exact spelling; `DE` still means Germany.
 * Anything else is refused with a message listing the forms (the service answers 400 with it).
 */
export function resolveRegion(text: string, names: RegionNames): RegionResolution {
  const region = category(text) ?? pool(text, names.pools) ?? cloudRegion(text, names) ?? country(text);
  if (region) return { ok: true, region };
  const regionNames = Object.keys(names.regions);
  return {
    ok: false,
    message:
      `region ${quoteText(text, MAX_REGION_LENGTH)} is not known: use US, NON_US, a country code such as DE, a pool ` +
      `(${names.pools.join(', ') || 'none'})${regionNames.length > 0 ? ` or a region (${regionNames.join(', ')})` : ''}`,
  };
}

function category(text: string): RegionChoice | null {
  const upper = text.toUpperCase();
  return upper === 'US' || upper === 'NON_US' ? { kind: 'geo', geo: upper, label: upper } : null;
}

function pool(text: string, pools: readonly string[]): RegionChoice | null {
  return pools.includes(text) ? { kind: 'pool', pool: text, label: text } : null;
}

/** A cloud region name as what it maps to (the loader checked the target), labelled with its own name. */
function cloudRegion(text: string, names: RegionNames): RegionChoice | null {
  if (!Object.hasOwn(names.regions, text)) return null;
  const target = names.regions[text] ?? '';
  const region = category(target) ?? pool(target, names.pools) ?? country(target);
  return region && { ...region, label: text };
}

function country(text: string): RegionChoice | null {
  const code = text.length === 2 ? assignedCountry(text.toUpperCase()) : null;
  return code ? { kind: 'geo', geo: [code], label: code } : null;
}
