import type { GatewaySpec, PoolSpec } from '../fleet/fleet-types.js';
import { Secret } from '../fleet/secret.js';

/**
 * Everything the gateway's routes are built from: the fleet's pools and `gateway` section, what is known
 * of each proxy's exits (inside `torfleet run`), and `--no-corporate`.
 */
export interface GatewayInput {
  readonly pools: readonly PoolSpec[];
  readonly gateway: GatewaySpec | null;
  /** Countries of each proxy's pinned exits, by proxy name (`run` knows them from its last plan). */
  readonly exitCountries: Readonly<Record<string, readonly string[]>>;
  /** The node address of each proxy running on another swarm node, by proxy name (`run` knows them from the runtime). */
  readonly nodeAddresses: Readonly<Record<string, string>>;
  readonly corporate: boolean;
}

/**
 * A GatewayInput as a plain value that crosses to the gateway's worker thread (structured clone drops a
 * Secret's private field, so secrets travel revealed inside the process and are wrapped again on arrival).
 */
export interface GatewayInputWire {
  readonly pools: readonly PoolSpec[];
  readonly gateway: WireGateway | null;
  readonly exitCountries: Readonly<Record<string, readonly string[]>>;
  readonly nodeAddresses: Readonly<Record<string, string>>;
  readonly corporate: boolean;
}

type WireSecret = { readonly secret: string } | null;

interface WireGateway extends Omit<GatewaySpec, 'token' | 'upstreams' | 'corporate'> {
  readonly token: WireSecret;
  readonly upstreams: readonly (Omit<GatewaySpec['upstreams'][number], 'auth'> & { readonly auth: WireSecret })[];
  readonly corporate: (Omit<NonNullable<GatewaySpec['corporate']>, 'auth'> & { readonly auth: WireSecret }) | null;
}

const out = (secret: Secret | null): WireSecret => (secret ? { secret: secret.reveal() } : null);
const back = (wire: WireSecret): Secret | null => (wire ? new Secret(wire.secret) : null);

export function toWire(input: GatewayInput): GatewayInputWire {
  const { gateway } = input;
  return {
    ...input,
    gateway: gateway && {
      ...gateway,
      token: out(gateway.token),
      upstreams: gateway.upstreams.map((upstream) => ({ ...upstream, auth: out(upstream.auth) })),
      corporate: gateway.corporate && { ...gateway.corporate, auth: out(gateway.corporate.auth) },
    },
  };
}

export function fromWire(wire: GatewayInputWire): GatewayInput {
  const { gateway } = wire;
  return {
    ...wire,
    gateway: gateway && {
      ...gateway,
      token: back(gateway.token),
      upstreams: gateway.upstreams.map((upstream) => ({ ...upstream, auth: back(upstream.auth) })),
      corporate: gateway.corporate && { ...gateway.corporate, auth: back(gateway.corporate.auth) },
    },
  };
}
