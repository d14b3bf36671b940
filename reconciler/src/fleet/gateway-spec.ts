import { DEFAULT_GATEWAY_LISTEN, type GatewaySpec, type UpstreamSpec } from './fleet-types.js';
import { parseEndpoint } from './ip-address.js';
import type { RawGateway, RawUpstream } from './raw-fleet.js';
import { Secret } from './secret.js';
import { parseUpstreamUrl } from './upstream-url.js';

/** The GatewaySpec of a `gateway:` section that passed the checks (gateway-checks.ts), defaults applied. */
export function buildGateway(raw: RawGateway): GatewaySpec {
  const listen = endpoint(raw.listen ?? DEFAULT_GATEWAY_LISTEN, 'gateway.listen');
  const corporate = raw.corporate ?? null;
  return {
    listen: { host: listen.address, port: listen.port },
    token: secretOf(raw.token),
    default: raw.default ?? null,
    upstreams: (raw.upstreams ?? []).map(buildUpstream),
    corporate: corporate && {
      ...hostPort(endpoint(corporate.address, 'gateway.corporate.address')),
      auth: secretOf(corporate.auth),
    },
  };
}

function buildUpstream(raw: RawUpstream): UpstreamSpec {
  const url = parseUpstreamUrl(raw.url);
  if (!url.ok) throw new Error(`gateway upstream ${raw.name}: the url passed the fleet checks but does not parse`);
  return { name: raw.name, protocol: url.protocol, host: url.host, port: url.port, auth: secretOf(raw.auth) };
}

function endpoint(text: string, what: string): { address: string; port: number } {
  const parsed = parseEndpoint(text);
  if (!parsed) throw new Error(`${what} passed the fleet checks but is not IP:PORT`);
  return parsed;
}

function hostPort({ address, port }: { address: string; port: number }): { host: string; port: number } {
  return { host: address, port };
}

/** A credential that passed the checks is a string (a whole `${NAME}` reference, substituted). */
function secretOf(value: unknown): Secret | null {
  return typeof value === 'string' ? new Secret(value) : null;
}
