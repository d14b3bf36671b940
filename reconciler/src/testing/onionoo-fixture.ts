import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { parseConsensus, type ConsensusEntry } from '../nodes/consensus-parser.js';
import { parseGeoIp, type GeoIpDatabase } from '../nodes/geoip.js';
import { sharedConsensusFile, sharedGeoIpFile } from './shared-data.js';

/** One relay of an Onionoo details document, with the fields the real service returns when none are filtered. */
export type OnionooRelayJson = Record<string, unknown> & { fingerprint: string };

export interface OnionooDetailsJson {
  version: string;
  build_revision: string;
  relays_published: string;
  relays: OnionooRelayJson[];
  bridges_published: string;
  bridges: unknown[];
}

/**
 * Builds an Onionoo `details` document from a real consensus and GeoIP file, shaped as Onionoo
 * (protocol 8.0) answers: lowercase countries, `YYYY-MM-DD hh:mm:ss` times, empty fields omitted.
 * `synthetic` extra relays (copies of real ones with new fingerprints and addresses) make it full-size.
 */
export function buildOnionooDetails(
  options: { consensusFile?: string; geoipFile?: string; synthetic?: number } = {},
): OnionooDetailsJson {
  const consensus = parseConsensus(readFileSync(options.consensusFile ?? sharedConsensusFile, 'utf8'), 'consensus');
  const geoip = parseGeoIp(readFileSync(options.geoipFile ?? sharedGeoIpFile, 'utf8'), 'geoip');
  const published = torTime(consensus.validAfter);
  const relays = consensus.entries.map((entry) => relayJson(entry, geoip, published));
  const real = consensus.entries;
  for (let i = 0; i < (options.synthetic ?? 0); i++) {
    const base = real[i % real.length];
    if (!base) break;
    const fingerprint = createHash('sha1').update(`synthetic-${i}`).digest('hex').toUpperCase();
    // Same /24 as the copied relay (so the same country), another host: data only, never contacted.
    const address = `${base.address.split('.').slice(0, 3).join('.')}.${(i % 254) + 1}`;
    relays.push(relayJson({ ...base, fingerprint, nickname: `Synth${i}`, address }, geoip, published));
  }
  return {
    version: '8.0',
    build_revision: 'torfleet-fixture',
    relays_published: published,
    relays,
    bridges_published: published,
    bridges: [],
  };
}

function relayJson(entry: ConsensusEntry, geoip: GeoIpDatabase, published: string): OnionooRelayJson {
  const country = geoip.countryOf(entry.address);
  const relay: OnionooRelayJson = {
    nickname: entry.nickname,
    fingerprint: entry.fingerprint,
    or_addresses: [`${entry.address}:${entry.orPort}`, ...entry.extraOrAddresses],
    last_seen: published,
    last_changed_address_or_port: '2022-10-01 00:00:00',
    first_seen: '2021-06-01 00:00:00',
    running: true,
    flags: entry.flags,
    consensus_weight: 1000,
    verified_host_names: [],
    last_restarted: '2022-11-01 12:00:00',
    bandwidth_rate: 1073741824,
    bandwidth_burst: 1073741824,
    observed_bandwidth: 10485760,
    advertised_bandwidth: 10485760,
    exit_policy: entry.flags.includes('Exit') ? REDUCED_EXIT_POLICY : ['reject *:*'],
    exit_policy_v6_summary: entry.flags.includes('Exit') ? { accept: ['80', '443'] } : { reject: ['1-65535'] },
    contact: `operator of ${entry.nickname} <abuse at example dot org>`,
    platform: 'Tor 0.4.7.10 on Linux',
    version: '0.4.7.10',
    version_status: 'recommended',
    effective_family: [entry.fingerprint],
    alleged_family: [],
    indirect_family: [],
    unreachable_or_addresses: [],
    overload_general_timestamp: 0,
    consensus_weight_fraction: 1e-4,
    guard_probability: 1e-4,
    middle_probability: 1e-4,
    exit_probability: entry.flags.includes('Exit') ? 1e-4 : 0,
    recommended_version: true,
    measured: true,
  };
  if (country) {
    relay.country = country.toLowerCase();
    relay.country_name = country;
  }
  if (entry.flags.includes('Exit')) relay.exit_addresses = [entry.address];
  if (entry.policy) relay.exit_policy_summary = entry.policy;
  relay.as = `AS${(parseInt(entry.fingerprint.slice(0, 4), 16) % 60000) + 1}`;
  return relay;
}

/** Tor's ReducedExitPolicy, as many exits publish it: what makes real details documents large. */
const REDUCED_EXIT_POLICY: readonly string[] = [
  ...'20-23 43 53 79-81 88 110 143 194 220 389 443 464 531 543-544 554 563 587 636 706 749 873 902-904 981 989-995 1194 1220 1293 1500 1533 1677 1723 1755 1863 2082-2083 2086-2087 2095-2096 2102-2104 3128 3389 3690 4321 4643 5050 5190 5222-5223 5228 5900 6660-6669 6679 6697 8000 8008 8074 8080 8082 8087-8088 8232-8233 8332-8333 8443 8888 9418 9999 10000 11371 19294 19638 50002 64738'
    .split(' ')
    .map((ports) => `accept *:${ports}`),
  'reject *:*',
];

/** `2022-11-19 10:00:00` */
export function torTime(date: Date): string {
  return date.toISOString().slice(0, 19).replace('T', ' ');
}

/** Keeps only `fields` of each relay, as Onionoo does for `?fields=`. */
export function selectFields(document: OnionooDetailsJson, fields: readonly string[] | null): OnionooDetailsJson {
  if (!fields) return document;
  return {
    ...document,
    relays: document.relays.map((relay) => {
      const picked: OnionooRelayJson = { fingerprint: relay.fingerprint };
      for (const field of fields) if (field in relay) picked[field] = relay[field];
      return picked;
    }),
  };
}
