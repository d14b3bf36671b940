import type { Secret } from '../fleet/secret.js';

/**
 * The gateway's view of where a connection may leave: routes (what a client names) made of members (one
 * SOCKS or HTTP proxy each). Built purely from the fleet (`buildRouteTable`); shared by the inbound side
 * (which route a client asked for) and the outbound side (which member carries it, and how).
 */

/** A fleet proxy: tor's SocksPort at `bind:port`, on this machine. */
export interface TorMember {
  readonly kind: 'tor';
  /** The proxy name `POOL-i`. */
  readonly id: string;
  readonly pool: string;
  readonly host: string;
  readonly port: number;
}

/** A proxy outside the fleet (fleet.yaml `gateway.upstreams`). */
export interface UpstreamMember {
  readonly kind: 'upstream';
  /** The upstream's name. */
  readonly id: string;
  readonly protocol: 'http' | 'socks5';
  readonly host: string;
  readonly port: number;
  readonly auth: Secret | null;
}

export type Member = TorMember | UpstreamMember;

export type RouteKind = 'pool' | 'proxy' | 'geo' | 'upstream';

export interface Route {
  /** What the client names: `us-strict`, `us-strict-2`, `geo-de`, `provider`. */
  readonly name: string;
  readonly kind: RouteKind;
  /** In a stable order (the fleet's); may be empty (a geo nothing serves, a pool of count 0). */
  readonly members: readonly Member[];
}

/** The corporate HTTP proxy every hop that leaves the machine goes through first (CONNECT). */
export interface CorporateHop {
  readonly host: string;
  readonly port: number;
  readonly auth: Secret | null;
}

export interface RouteTable {
  /** The route named `name` (exact, lower case as written), or undefined. `geo-xx` for any country code. */
  lookup(name: string): Route | undefined;
  /** The routes a client may name, for the 407 body and the PAC comment: pools, proxies, upstreams, geo routes. */
  names(): readonly string[];
  /** The route of a client that names none, or null (the client must name one). */
  readonly defaultRoute: string | null;
  /** The proxy password every client must send, or null (none asked). */
  readonly token: Secret | null;
  readonly corporate: CorporateHop | null;
}

/** Where the client wants to go: a host name (never resolved by the gateway) or an IP literal, and a port. */
export interface Target {
  /** As the client sent it: a name, an IPv4 literal, or an IPv6 literal without brackets. */
  readonly host: string;
  readonly port: number;
}
