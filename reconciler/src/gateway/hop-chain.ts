import type { Socket } from 'node:net';
import type { Cancel } from './cancel.js';
import type { DialRequest } from './dial-types.js';
import { startHop } from './hop-deadline.js';
import { basicAuthorization, socksCredentials, torIsolation } from './hop-credentials.js';
import { HopError } from './hop-error.js';
import { httpConnect } from './http-connect-client.js';
import type { CorporateHop, Member, UpstreamMember } from './route-types.js';
import { socks5Connect } from './socks5-client.js';
import { connectTcp } from './tcp-connect.js';

export type HopRequest = Pick<DialRequest, 'route' | 'session' | 'target' | 'purpose' | 'corporate' | 'cancel'>;

export interface HopChain {
  readonly socket: Socket;
  readonly absoluteForm: boolean;
  readonly proxyAuthorization: string | null;
}

/**
 * The way out through one member, each step (TCP connection, each proxy's handshake) boxed in `timeoutMs`:
 * - tor: TCP to its SocksPort, SOCKS5 with the session as isolation credentials (tor is on this machine: no corporate hop);
 * - socks5 upstream: [corporate CONNECT to the upstream], SOCKS5 with the upstream's auth;
 * - http upstream: [corporate CONNECT to the upstream], then CONNECT to the target with the upstream's auth, or for
 *   `http-forward` the bare connection (`absoluteForm`, the caller sends the upstream's Proxy-Authorization).
 * Each proxy sees only its own credentials. On any failure the socket is destroyed before the error is thrown.
 */
export async function buildHopChain(member: Member, request: HopRequest, timeoutMs: number): Promise<HopChain> {
  const step = async <T>(run: (cancel: Cancel) => Promise<T>): Promise<T> => {
    const hop = startHop(request.cancel, timeoutMs);
    try {
      return await run(hop.cancel);
    } finally {
      hop.end();
    }
  };
  if (member.kind === 'tor') {
    const what = `tor proxy ${member.id} at ${member.host}:${member.port}`;
    const socket = await step((cancel) => connectTcp(member.host, member.port, cancel, what));
    await guarded(
      socket,
      step((cancel) =>
        socks5Connect(socket, request.target, torIsolation(request.route.name, request.session), cancel, what),
      ),
    );
    return { socket, absoluteForm: false, proxyAuthorization: null };
  }
  const what = `${member.protocol} upstream ${member.id} at ${member.host}:${member.port}`;
  const socket = await reachUpstream(member, request.corporate, step);
  if (member.protocol === 'socks5') {
    const credentials = member.auth ? socksCredentials(member.auth) : null;
    await guarded(
      socket,
      step((cancel) => socks5Connect(socket, request.target, credentials, cancel, what)),
    );
    return { socket, absoluteForm: false, proxyAuthorization: null };
  }
  const authorization = member.auth ? basicAuthorization(member.auth) : null;
  if (request.purpose === 'http-forward') return { socket, absoluteForm: true, proxyAuthorization: authorization };
  await guarded(
    socket,
    step((cancel) => httpConnect(socket, request.target, authorization, cancel, what)),
  );
  return { socket, absoluteForm: false, proxyAuthorization: null };
}

type Step = <T>(run: (cancel: Cancel) => Promise<T>) => Promise<T>;

/** A connection to the upstream itself: direct, or a tunnel through the corporate proxy (CONNECT upstream:port). */
async function reachUpstream(member: UpstreamMember, corporate: CorporateHop | null, step: Step): Promise<Socket> {
  if (!corporate) {
    const what = `${member.protocol} upstream ${member.id} at ${member.host}:${member.port}`;
    return step((cancel) => connectTcp(member.host, member.port, cancel, what));
  }
  const what = `corporate proxy at ${corporate.host}:${corporate.port}`;
  const socket = await step((cancel) => connectTcp(corporate.host, corporate.port, cancel, what));
  const authorization = corporate.auth ? basicAuthorization(corporate.auth) : null;
  const upstream = { host: member.host, port: member.port };
  await guarded(
    socket,
    step((cancel) => httpConnect(socket, upstream, authorization, cancel, what)).catch((error: unknown) => {
      throw corporateFailure(error, member);
    }),
  );
  return socket;
}

/**
 * The corporate proxy answered but could not reach the upstream: for this dial that is the upstream's failure
 * (the member is down or unreachable), so it counts against the member; a refused corporate login stays `upstream-auth`.
 */
function corporateFailure(error: unknown, member: UpstreamMember): unknown {
  if (!(error instanceof HopError) || !error.proxyAnswered || error.reason === 'upstream-auth') return error;
  const reason = error.reason === 'timeout' ? 'timeout' : 'refused';
  return new HopError(
    reason,
    `upstream ${member.id} unreachable through the corporate proxy: ${error.message}`,
    false,
    { cause: error },
  );
}

/** Awaits a handshake on `socket`, destroying the socket when it fails. */
async function guarded(socket: Socket, handshake: Promise<unknown>): Promise<void> {
  try {
    await handshake;
  } catch (error) {
    socket.destroy();
    throw error;
  }
}
