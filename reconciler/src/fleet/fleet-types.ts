import type { Secret } from './secret.js';

/** A validated fleet: what `fleet/fleet.yaml` asks for, with every default applied. */
export interface Fleet {
  readonly apiVersion: 'torfleet/v1';
  readonly kind: 'Fleet';
  readonly tor: TorSettings;
  readonly pools: readonly PoolSpec[];
  /** fleet.yaml `gateway:`; null when the file has none (`torfleet gateway` still serves such a fleet). */
  readonly gateway: GatewaySpec | null;
  /** fleet.yaml `broker:`, defaults applied (no section: no cloud region names). */
  readonly broker: BrokerSpec;
}

/** fleet.yaml `broker:`: what the broker reads from the fleet (its listener and tokens are settings). */
export interface BrokerSpec {
  /** Cloud region names (`us-east-1`) → `US`, `NON_US`, a country code or a pool name, as checked by the loader. */
  readonly regions: Readonly<Record<string, string>>;
}

export interface TorSettings {
  readonly image: string;
  readonly dirAuthorities: readonly string[];
  readonly testingNetwork: boolean;
  readonly geoipFile: string | null;
  readonly httpsProxy: HttpsProxy | null;
  readonly disableNetwork: boolean;
}

export interface HttpsProxy {
  /** An IP literal and port, `192.0.2.10:3128` or `[2001:db8::1]:3128`. */
  readonly address: string;
  /** `USER:PASSWORD`, always substituted from the environment. */
  readonly auth: Secret | null;
}

export type PoolMode = 'strict' | 'flexible' | 'rotating';

/** `US`, `NON_US`, or an explicit list of ISO 3166-1 alpha-2 codes (upper case). */
export type GeoSelector = 'US' | 'NON_US' | readonly string[];

export type GeoCategory = 'US' | 'NON_US';
export const GEO_CATEGORIES: readonly GeoCategory[] = ['US', 'NON_US'];

export interface PoolSpec {
  readonly name: string;
  readonly geo: GeoSelector;
  /** Upper-case country codes never used by this pool. */
  readonly exclude: readonly string[];
  readonly mode: PoolMode;
  readonly count: number;
  readonly basePort: number;
  readonly bind: string;
  /** Rotating pools: seconds between circuit changes; null for strict and flexible pools. */
  readonly rotateEverySeconds: number | null;
  /** Where its proxies may run on a swarm (`placement.constraints`, spaces removed); other runtimes ignore it. */
  readonly placement: PlacementSpec;
  /** fleet.yaml `packing:`: its proxies are served by shared tors, `proxiesPerTor` each; null: one tor per proxy. */
  readonly packing: PackingSpec | null;
}

/** fleet.yaml `packing:` of a pool (issue 14): many proxies per tor process, each on its own port and circuit. */
export interface PackingSpec {
  /** At most this many proxies per shared tor (1 to MAX_PROXIES_PER_TOR): proxy i is served by tor floor(i / N). */
  readonly proxiesPerTor: number;
}

/** The most proxies one shared tor serves (the contract's bound: 1,000 circuits measured in 26 MB). */
export const MAX_PROXIES_PER_TOR = 1000;

/** fleet.yaml `placement:` of a pool: Swarm constraints (node labels, role, hostname), all of which must hold. */
export interface PlacementSpec {
  readonly constraints: readonly string[];
}

export const DEFAULT_TOR_IMAGE = 'torfleet/tor:0.4.9';
export const DEFAULT_BIND = '127.0.0.1';
export const DEFAULT_ROTATE_EVERY = '10m';
export const MIN_ROTATE_SECONDS = 10;

/**
 * What the node database could ever give a pool: exits (strict) and /16 groups (flexible) of its geo.
 * `validate` uses it, when a node database is at hand, to reject counts no refresh could satisfy.
 */
export interface FleetCapacity {
  exitsFor(geo: GeoSelector, exclude: readonly string[]): number;
  groupsFor(geo: GeoSelector, exclude: readonly string[]): number;
}

/** fleet.yaml `gateway:`: the one local entry point (HTTP, CONNECT and SOCKS5 on one port). Absent: null. */
export interface GatewaySpec {
  /** `IP:PORT` (an IP literal), default 127.0.0.1:8888. */
  readonly listen: { readonly host: string; readonly port: number };
  /** The proxy password clients send; required when `listen` is beyond loopback. */
  readonly token: Secret | null;
  /** The route of a client that names none: a pool, `POOL-i`, an upstream or `geo-xx`; null: clients must name one. */
  readonly default: string | null;
  readonly upstreams: readonly UpstreamSpec[];
  /** An HTTP proxy every hop that leaves this machine goes through first. */
  readonly corporate: CorporateProxySpec | null;
}

export interface UpstreamSpec {
  /** Same pattern as pool names, unique across pools and upstreams. */
  readonly name: string;
  readonly protocol: 'http' | 'socks5';
  /** An IP literal (IPv6 without brackets) or a host name: the upstream's own address, never a target's. */
  readonly host: string;
  readonly port: number;
  /** `USER:PASSWORD`, always substituted from the environment. */
  readonly auth: Secret | null;
}

export interface CorporateProxySpec {
  /** An IP literal (IPv6 without brackets). */
  readonly host: string;
  readonly port: number;
  /** `USER:PASSWORD`, always substituted from the environment. */
  readonly auth: Secret | null;
}

export const DEFAULT_GATEWAY_LISTEN = '127.0.0.1:8888';
