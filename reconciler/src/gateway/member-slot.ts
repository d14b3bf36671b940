import type { Socket } from 'node:net';
import type { Member, Route, Target } from './route-types.js';

/** A connection to a member (the dialer's socket) and what it was dialed for. */
export interface MemberConnection {
  readonly socket: Socket;
  readonly member: Member;
  readonly absoluteForm: boolean;
  readonly proxyAuthorization: string | null;
  readonly route: Route;
  readonly session: string | null;
  readonly target: Target;
}

/** What a request needs of a member connection. */
export interface MemberWay {
  readonly route: Route;
  readonly session: string | null;
  readonly target: Target;
}

/**
 * Whether `kept` may carry a request for `wanted`: the same route (the very object of the table the client
 * connection was accepted under: a table update makes new objects) and session, and the same target host:port
 * (over a SOCKS or tor member the socket IS a tunnel to that target) or, in absolute form, any target (the
 * socket reaches the route's http upstream, which takes any absolute URI).
 */
export function carries(kept: MemberConnection, wanted: MemberWay): boolean {
  if (kept.route !== wanted.route || kept.session !== wanted.session) return false;
  if (kept.absoluteForm) return true;
  return kept.target.host === wanted.target.host && kept.target.port === wanted.target.port;
}

/**
 * The one idle member connection of one client connection (never shared with another client): kept after a
 * complete keep-alive exchange, taken by the next request it `carries`, destroyed when the client connection
 * closes, when the member closes or sends anything while idle, after `idleMs`, or when a newer one is kept.
 */
export class IdleMember {
  #kept: MemberConnection | null = null;
  #unwatch: () => void = () => undefined;

  constructor(client: Socket) {
    client.once('close', () => {
      this.#drop()?.socket.destroy();
    });
  }

  /** The kept connection when it carries `wanted` and is still open; else null (the kept one stays). */
  take(wanted: MemberWay): MemberConnection | null {
    const kept = this.#kept;
    if (kept === null || !carries(kept, wanted)) return null;
    this.#drop();
    if (kept.socket.destroyed || !kept.socket.readable || !kept.socket.writable) {
      kept.socket.destroy();
      return null;
    }
    return kept;
  }

  /**
   * Keeps `connection` idle (its socket's timeout set to `idleMs`; the caller's timeout listener destroys it).
   * `readAtEnd` is its socket's `bytesRead` when the member's answer was complete: a member that sent more since
   * (while the answer still went to the client, before anything here listened) is destroyed, as an idle one that talks.
   */
  keep(connection: MemberConnection, client: Socket, idleMs: number, readAtEnd: number): void {
    this.#drop()?.socket.destroy();
    const { socket } = connection;
    if (client.destroyed || socket.destroyed || socket.bytesRead !== readAtEnd) {
      socket.destroy();
      return;
    }
    const broken = (): void => {
      socket.destroy(); // an idle member that talks or half-closes is of no further use
    };
    const gone = (): void => {
      if (this.#kept === connection) this.#drop();
    };
    socket.on('data', broken);
    socket.on('end', broken);
    socket.on('close', gone);
    socket.setTimeout(idleMs);
    this.#kept = connection;
    this.#unwatch = () => {
      socket.off('data', broken);
      socket.off('end', broken);
      socket.off('close', gone);
    };
  }

  #drop(): MemberConnection | null {
    const kept = this.#kept;
    this.#unwatch();
    this.#unwatch = () => undefined;
    this.#kept = null;
    return kept;
  }
}

const slots = new WeakMap<Socket, IdleMember>();

/** The idle-member slot of the client connection `client` (made on first use). */
export function idleMemberOf(client: Socket): IdleMember {
  let slot = slots.get(client);
  if (slot === undefined) {
    slot = new IdleMember(client);
    slots.set(client, slot);
  }
  return slot;
}
