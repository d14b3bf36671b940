import { TorfleetError } from '../errors.js';

/** Largest GeoIP file torfleet reads or lets tor read (Tor's own IPv4 geoip is about 4 MB). */
export const MAX_GEOIP_BYTES = 32 * 1024 * 1024;

/** Tor's IPv4 GeoIP database: sorted, non-overlapping `startnum,endnum,CC` ranges. */
export interface GeoIpDatabase {
  /** Upper-case country code of an IPv4 address, or null when unknown (`??` or no range). */
  countryOf(ipv4: string): string | null;
  readonly ranges: number;
}

/** Parses Tor's geoip file format (lines `startnum,endnum,CC`, `#` comments). */
export function parseGeoIp(text: string, origin: string): GeoIpDatabase {
  const starts: number[] = [];
  const ends: number[] = [];
  const countries: string[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim();
    if (line === '' || line.startsWith('#')) continue;
    const [startText, endText, country] = line.split(',');
    const start = Number(startText);
    const end = Number(endText);
    if (
      !Number.isInteger(start) ||
      !Number.isInteger(end) ||
      end < start ||
      !country ||
      !/^[A-Za-z?]{2}$/.test(country)
    ) {
      throw new TorfleetError(
        'NODE_SOURCE_INVALID',
        'generic',
        `${origin}:${i + 1}: expected "startnum,endnum,CC"; is this a Tor geoip file (not geoip6)?`,
      );
    }
    starts.push(start);
    ends.push(end);
    countries.push(country.toUpperCase());
  }
  const order = starts.map((_, i) => i).sort((a, b) => (starts[a] ?? 0) - (starts[b] ?? 0));
  const s = Float64Array.from(order, (i) => starts[i] ?? 0);
  const e = Float64Array.from(order, (i) => ends[i] ?? 0);
  const c = order.map((i) => countries[i] ?? '??');
  return {
    ranges: s.length,
    countryOf(ipv4: string): string | null {
      const n = ipv4ToNumber(ipv4);
      if (n === undefined) return null;
      let lo = 0;
      let hi = s.length - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >>> 1;
        if ((s[mid] ?? 0) > n) hi = mid - 1;
        else if ((e[mid] ?? 0) < n) lo = mid + 1;
        else return c[mid] === '??' ? null : (c[mid] ?? null);
      }
      return null;
    },
  };
}

export function ipv4ToNumber(ipv4: string): number | undefined {
  const parts = ipv4.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const part of parts) {
    const octet = Number(part);
    if (!/^\d{1,3}$/.test(part) || octet > 255) return undefined;
    n = n * 256 + octet;
  }
  return n;
}
