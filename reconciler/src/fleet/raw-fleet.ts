/** The fleet document as the schema admits it, before defaults: what semantic checks and the builder read. */
export interface RawFleet {
  apiVersion: 'torfleet/v1';
  kind: 'Fleet';
  tor?: RawTor;
  pools: RawPool[];
  gateway?: RawGateway | null;
  broker?: RawBroker | null;
}

export interface RawBroker {
  regions?: Record<string, string>;
}

export interface RawTor {
  image?: string;
  dirAuthorities?: string[];
  testingNetwork?: boolean;
  geoipFile?: string | null;
  httpsProxy?: { address: string; auth?: string } | null;
  disableNetwork?: boolean;
}

export interface RawPool {
  name: string;
  geo: 'US' | 'NON_US' | string[];
  exclude?: string[];
  mode: 'strict' | 'flexible' | 'rotating';
  count: number;
  basePort: number;
  bind?: string;
  rotateEvery?: string;
  placement?: { constraints?: string[] };
  packing?: { proxiesPerTor: number };
}

/** `token` and every `auth` are of any type here: the checks accept only a whole `${NAME}` reference (a string). */
export interface RawGateway {
  listen?: string;
  token?: unknown;
  default?: string;
  upstreams?: RawUpstream[];
  corporate?: { address: string; auth?: unknown } | null;
}

export interface RawUpstream {
  name: string;
  url: string;
  auth?: unknown;
}
