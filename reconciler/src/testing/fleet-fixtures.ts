import type { Fleet, GatewaySpec, PoolSpec, TorSettings } from '../fleet/fleet-types.js';
import type { EligibleExit } from '../nodes/eligible-exit.js';

/** Tor settings as loaded with every default, but DisableNetwork 1: a test's tor dials nothing. */
export const TEST_TOR: TorSettings = {
  image: 'torfleet/tor:0.4.9',
  dirAuthorities: [],
  testingNetwork: false,
  geoipFile: null,
  httpsProxy: null,
  disableNetwork: true,
};

/** A loaded pool: two strict US proxies from port 20000 on loopback, unless `over` says otherwise. */
export function testPool(name: string, over: Partial<PoolSpec> = {}): PoolSpec {
  return {
    name,
    geo: 'US',
    exclude: [],
    mode: 'strict',
    count: 2,
    basePort: 20000,
    bind: '127.0.0.1',
    rotateEverySeconds: over.mode === 'rotating' ? 600 : null,
    placement: { constraints: [] },
    packing: null,
    ...over,
  };
}

export function testFleet(
  pools: readonly PoolSpec[],
  tor: Partial<TorSettings> = {},
  gateway: GatewaySpec | null = null,
): Fleet {
  return {
    apiVersion: 'torfleet/v1',
    kind: 'Fleet',
    tor: { ...TEST_TOR, ...tor },
    pools,
    gateway,
    broker: { regions: {} },
  };
}

/** Eligible exit `n` (fingerprint n in 40 hex digits) in its own /16 unless told otherwise. */
export function testExit(n: number, country: string, network = `10.${n}.0.0/16`): EligibleExit {
  const [a, b] = network.split('.');
  return {
    fingerprint: n.toString(16).toUpperCase().padStart(40, '0'),
    nickname: `exit${n}`,
    address: `${a}.${b}.0.${n}`,
    country,
    network,
  };
}
