import type { Socket } from 'node:net';
import { Cancel } from './cancel.js';
import { dialRoute } from './dial-route.js';
import { SOCKS_REPLY } from './dial-failure.js';
import { recordConnectionEnd, targetText, type GatewayContext, type RoutingView } from './gateway-context.js';
import { UNKNOWN_ROUTE, type GatewayResult } from './gateway-metrics.js';
import { authenticate, type ProxyAuthResult } from './proxy-auth.js';
import { SocketReader } from './socket-reader.js';
import { runTunnel } from './tunnel.js';
import * as wire from './socks5-wire.js';
import type { Target } from './route-types.js';

type RouteAuth = Extract<ProxyAuthResult, { ok: true }>;

/** The most a SOCKS5 handshake may leave unread (greeting 257, auth 513, request 262 bytes, plus early data). */
const MAX_HANDSHAKE_BUFFER = 64 * 1024;

class SocksRefusal extends Error {
  constructor(
    readonly result: GatewayResult,
    message: string,
    readonly reply: Buffer | null,
  ) {
    super(message);
  }
}

/**
 * The SOCKS5 server side (RFC 1928, RFC 1929) for one client whose first byte was 0x05: greeting, user/password
 * (the username names the route, the password is the token), one CONNECT (an IPv4, IPv6 or a domain, never
 * resolved here), then a tunnel. The whole handshake has `handshakeTimeoutMs`; bytes after the request go through.
 */
export async function serveSocks5(context: GatewayContext, view: RoutingView, client: Socket): Promise<void> {
  const startedAt = performance.now();
  const deadline = setTimeout(() => client.destroy(), context.limits.handshakeTimeoutMs);
  const reader = new SocketReader(client, MAX_HANDSHAKE_BUFFER);
  let auth: RouteAuth | null = null;
  let target: Target | null = null;
  const end = (result: GatewayResult, extra: Partial<Parameters<typeof recordConnectionEnd>[1]> = {}): void => {
    recordConnectionEnd(context, {
      route: auth?.label ?? UNKNOWN_ROUTE,
      protocol: 'socks5',
      result,
      member: null,
      bytesUp: 0,
      bytesDown: 0,
      startedAt,
      target: target ? targetText(target, view.redactor) : null,
      ...extra,
    });
  };
  try {
    auth = await negotiate(reader, client, view);
    target = await readRequest(reader);
  } catch (error) {
    clearTimeout(deadline);
    reader.release();
    if (error instanceof SocksRefusal) {
      if (error.reply) client.end(error.reply);
      else client.destroy();
      end(error.result, { message: error.message });
    } else {
      client.destroy(); // the client went away, or fell silent until the deadline, mid-message: nothing to answer
      end('bad-request', { message: 'the SOCKS5 handshake did not complete' });
    }
    return;
  } finally {
    clearTimeout(deadline);
  }
  const head = reader.release();
  const cancel = new Cancel();
  client.once('close', () => {
    cancel.cancel();
  });
  const dialed = await dialRoute(context, view, {
    route: auth.route,
    session: auth.session,
    label: auth.label,
    target,
    purpose: 'tunnel',
    cancel,
  });
  if (!dialed.ok) {
    client.end(wire.socksReply(dialed.answer.socksReply));
    end(dialed.result, { message: dialed.message });
    return;
  }
  client.write(wire.socksReply(SOCKS_REPLY.succeeded));
  const tunnel = await runTunnel(context, client, dialed.dialed.socket, head, auth.label);
  end(tunnel.outcome === 'error' ? 'error' : 'ok', {
    member: dialed.dialed.member.id,
    bytesUp: tunnel.bytesUp,
    bytesDown: tunnel.bytesDown,
  });
}

/** Greeting and, when chosen, the user/password subnegotiation: the route, or a SocksRefusal. */
async function negotiate(reader: SocketReader, client: Socket, view: RoutingView): Promise<RouteAuth> {
  const version = await reader.byte();
  if (version !== wire.SOCKS_VERSION) throw new SocksRefusal('bad-request', 'not a SOCKS5 greeting', null);
  const methods = await reader.read(await reader.byte());
  const anonymous = authenticate(view.table, { username: null, password: null }, view.redactor);
  const method = wire.chooseMethod(methods, anonymous.ok);
  if (method === wire.METHOD_REFUSED) {
    const message = anonymous.ok ? 'the client offered no method the gateway speaks' : anonymous.message;
    const result = anonymous.ok ? 'bad-request' : anonymous.result;
    throw new SocksRefusal(result, message, Buffer.from([wire.SOCKS_VERSION, wire.METHOD_REFUSED]));
  }
  client.write(Buffer.from([wire.SOCKS_VERSION, method]));
  if (method === wire.METHOD_NONE && anonymous.ok) return anonymous;
  if ((await reader.byte()) !== wire.AUTH_VERSION) {
    throw new SocksRefusal('bad-request', 'bad user/password subnegotiation version', wire.authReply(false));
  }
  const username = (await reader.read(await reader.byte())).toString('utf8');
  const password = (await reader.read(await reader.byte())).toString('utf8');
  const auth = authenticate(view.table, { username: username || null, password }, view.redactor);
  if (!auth.ok) throw new SocksRefusal(auth.result, auth.message, wire.authReply(false));
  client.write(wire.authReply(true));
  return auth;
}

/** The request: CONNECT to an address, or a SocksRefusal with the reply that says why not. */
async function readRequest(reader: SocketReader): Promise<Target> {
  const [version, command, , addressType] = await reader.read(4);
  if (version !== wire.SOCKS_VERSION) throw new SocksRefusal('bad-request', 'bad request version', null);
  let host: string | null;
  if (addressType === wire.ATYP_IPV4) host = wire.ipv4FromBytes(await reader.read(4));
  else if (addressType === wire.ATYP_IPV6) host = wire.ipv6FromBytes(await reader.read(16));
  else if (addressType === wire.ATYP_DOMAIN) host = wire.domainFromBytes(await reader.read(await reader.byte()));
  else throw refusal('bad-request', 'unknown address type', SOCKS_REPLY.addressTypeNotSupported);
  const port = await reader.read(2);
  if (command !== wire.COMMAND_CONNECT) {
    throw refusal('bad-request', 'only CONNECT is served (no BIND, no UDP)', SOCKS_REPLY.commandNotSupported);
  }
  if (host === null) throw refusal('bad-request', 'the domain name is not printable', SOCKS_REPLY.generalFailure);
  return wire.targetOf(host, port);
}

function refusal(result: GatewayResult, message: string, code: number): SocksRefusal {
  return new SocksRefusal(result, message, wire.socksReply(code));
}
