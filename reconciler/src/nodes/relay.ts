import { isIP } from 'node:net';
import { GEO_CATEGORIES, type GeoCategory } from '../fleet/fleet-types.js';
import { countryInGeo } from '../fleet/geo-match.js';
import { assignedCountry } from './country-codes.js';

/** One Tor relay as torfleet stores it, whichever source it came from. */
export interface Relay {
  /** 40 upper-case hex digits. */
  readonly fingerprint: string;
  readonly nickname: string;
  /** `IP:PORT`, IPv6 in brackets. */
  readonly orAddresses: readonly string[];
  /** Addresses the relay's exit traffic was seen leaving from (Onionoo); empty when unknown. */
  readonly exitAddresses: readonly string[];
  /** ISO 3166-1 alpha-2, upper case; null when unknown. */
  readonly country: string | null;
  /** `AS1234`, when the source knows it. */
  readonly asNumber: string | null;
  readonly flags: readonly string[];
  readonly running: boolean;
  readonly exitPolicySummary: ExitPolicySummary | null;
  /** ISO 8601 times, when the source knows them. */
  readonly firstSeen: string | null;
  readonly lastSeen: string | null;
}

/** Onionoo's exit_policy_summary / a consensus `p` line: ports accepted or rejected, e.g. `["80", "443-445"]`. */
export type ExitPolicySummary = { readonly accept: readonly string[] } | { readonly reject: readonly string[] };

export type NodeSourceName = 'onionoo' | 'consensus';

/** Everything one successful refresh learned. */
export interface NodeSnapshot {
  /** When the source's data was published (Onionoo `relays_published`, a consensus's `valid-after`). */
  readonly relaysPublished: Date;
  readonly relays: readonly Relay[];
}

export function isExit(relay: Relay): boolean {
  return relay.flags.includes('Exit');
}

export function isBadExit(relay: Relay): boolean {
  return relay.flags.includes('BadExit');
}

/**
 * The IPv4 address a relay's exit traffic leaves from: its first usable exit address, else its first usable
 * OR address; null when it has none (such a relay is never an eligible exit).
 */
export function exitIPv4(relay: Relay): string | null {
  for (const address of relay.exitAddresses) if (isUsableExitAddress(address)) return address;
  for (const orAddress of relay.orAddresses) {
    const host = orAddress.slice(0, orAddress.lastIndexOf(':'));
    if (isUsableExitAddress(host)) return host;
  }
  return null;
}

/**
 * True for an IPv4 address a host can have and send from. Refused: 0.0.0.0/8 ("this network", unspecified),
 * 224.0.0.0/4 (multicast) and 240.0.0.0/4 (reserved, with the broadcast 255.255.255.255): no relay can exit
 * from them on any network. Loopback and private ranges stay usable: a private Tor network (TestingTorNetwork)
 * runs its exits there, and the public directory authorities never list such addresses.
 */
export function isUsableExitAddress(address: string): boolean {
  if (isIP(address) !== 4) return false;
  const first = Number(address.slice(0, address.indexOf('.')));
  return first !== 0 && first < 224;
}

/** `203.0.113.7` → `203.0.0.0/16`. */
export function network16(ipv4: string): string {
  const [a, b] = ipv4.split('.');
  return `${a ?? '0'}.${b ?? '0'}.0.0/16`;
}

/**
 * The geo category a relay counts in as an eligible exit (running, Exit, not BadExit, a usable IPv4 exit
 * address, an assigned country), or null when it is not one. The store's queries select the same relays.
 */
export function eligibleCategory(relay: Relay): GeoCategory | null {
  if (!relay.running || !isExit(relay) || isBadExit(relay) || exitIPv4(relay) === null) return null;
  const country = assignedCountry(relay.country);
  return GEO_CATEGORIES.find((category) => countryInGeo(country, category)) ?? null;
}
