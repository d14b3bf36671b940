import type { Socket } from 'node:net';
import type { Cancel } from './cancel.js';
import type { CorporateHop, Member, Route, Target } from './route-types.js';

/**
 * The outbound side's one interface: the inbound side (HTTP, CONNECT, SOCKS5) asks for a way out for one
 * client connection or request; the dialer picks a healthy member of the route (sticky for a session),
 * builds every hop (corporate proxy first when the member leaves the machine), retries another member when a
 * hop fails before the tunnel is up, and gives back a connected socket.
 */
export interface DialRequest {
  readonly route: Route;
  /** The `-session-ID` of the username, or null: the same member (and Tor circuit) while the session lives. */
  readonly session: string | null;
  readonly target: Target;
  /**
   * `tunnel`: a byte stream to the target (CONNECT, SOCKS5, or a plain HTTP request over a SOCKS member).
   * `http-forward`: a plain HTTP request: an `http://` upstream gets it in absolute form (the socket is then
   * connected to the upstream, `absoluteForm` true), any other member gives a tunnel to the target.
   */
  readonly purpose: 'tunnel' | 'http-forward';
  /** The route table's corporate proxy (null with `--no-corporate`): first hop to any upstream member. */
  readonly corporate: CorporateHop | null;
  /** Cancelled when the client goes away or the gateway stops: nothing is left open. */
  readonly cancel: Cancel;
}

export interface DialResult {
  readonly socket: Socket;
  readonly member: Member;
  /** True when `socket` reaches an HTTP upstream that expects the request in absolute form. */
  readonly absoluteForm: boolean;
  /** For `absoluteForm`: the `Proxy-Authorization` header value the upstream wants, or null. */
  readonly proxyAuthorization: string | null;
  /** Milliseconds from the dial's start until the tunnel (or the upstream connection) was up. */
  readonly connectMs: number;
}

/** Every way a dial fails, mapped once to what the client sees (HTTP status; SOCKS5 reply code). */
export type DialFailureReason =
  | 'no-member' // the route has no usable member (none running, all ejected, none in the fleet)
  | 'refused' // every member tried refused or reset before the tunnel was up
  | 'timeout' // every member tried timed out
  | 'target-unreachable' // the last hop reached the proxy, which could not reach the target
  | 'upstream-auth' // an upstream or the corporate proxy refused our credentials
  | 'aborted'; // the client went away or the gateway is stopping

export class DialError extends Error {
  readonly reason: DialFailureReason;
  constructor(reason: DialFailureReason, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DialError';
    this.reason = reason;
  }
}

export interface Dialer {
  dial(request: DialRequest): Promise<DialResult>;
}

/** What the dialer is told about members from outside (inside `torfleet run`: the runtime and egress checks). */
export interface MemberHealthView {
  /** False when the member's proxy is known not to run or its egress check fails; unknown members are usable. */
  usable(member: Member): boolean;
}
