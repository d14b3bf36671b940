import type { PoolSpec } from '../fleet/fleet-types.js';
import type { ProxyExits, ProxyPacking } from './plan-types.js';
import { specHashOf } from './spec-hash.js';

/**
 * The spec hash of a packed proxy: what reaches its SocksPort (name, bind, port, session group, the shared tor
 * serving it) and its circuits (mode, pinned fingerprints; for a rotating proxy its candidate rule, geo minus
 * exclude, and its period). Not the tor settings, template or runtime shape: it has no container, and those reach
 * its shared tor, whose hash covers them. Under the key `packed`, so no packed hash equals an unpacked one:
 * packing or unpacking a pool replaces each of its proxies.
 */
export function packedProxyHash(
  pool: PoolSpec,
  name: string,
  port: number,
  exits: ProxyExits,
  packing: ProxyPacking,
): string {
  return specHashOf({
    packed: packing,
    name,
    bind: pool.bind,
    port,
    mode: pool.mode,
    exits: exits.fingerprints,
    ...(pool.mode === 'rotating'
      ? { geo: pool.geo, exclude: pool.exclude, rotateEverySeconds: pool.rotateEverySeconds }
      : {}),
  });
}
