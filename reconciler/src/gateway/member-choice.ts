import { memberKey } from './member-health.js';
import type { Member, Route } from './route-types.js';

export interface SessionSettings {
  /** A session not used for this long is forgotten (the contract: 10 minutes). */
  readonly idleMs: number;
  /** Sessions remembered at most; the least recently used is forgotten first. */
  readonly maxSessions: number;
  /** Routes whose round-robin position is remembered at most (`geo-xx` names are many). */
  readonly maxRoutes: number;
}

export const DEFAULT_SESSIONS: SessionSettings = { idleMs: 10 * 60_000, maxSessions: 100_000, maxRoutes: 10_000 };

interface Sticky {
  readonly member: string;
  lastUsed: number;
}

/**
 * Which members to try, in order, for one request. Pure (clock passed in). Without a session: round robin over
 * the eligible members. With one: the member that last carried the session first, while it stays eligible and
 * the session is used at least every `idleMs`; when that member is not eligible (down, ejected, gone from the
 * route) the session moves to the member that carries it next (`remember`), and stays there.
 */
export class MemberChoice {
  readonly #sessions = new Map<string, Sticky>();
  readonly #cursors = new Map<string, number>();

  constructor(
    private readonly settings: SessionSettings,
    private readonly now: () => number,
  ) {}

  /** `eligible`: the route's members that may be tried now, in the route's order. */
  order(route: Route, session: string | null, eligible: readonly Member[]): Member[] {
    if (eligible.length === 0) return [];
    const stickyKey = session === null ? undefined : this.#live(sessionKey(route, session))?.member;
    const sticky = stickyKey === undefined ? -1 : eligible.findIndex((member) => memberKey(member) === stickyKey);
    if (sticky >= 0) return [eligible[sticky] as Member, ...eligible.filter((_, index) => index !== sticky)];
    const start = (this.#cursors.get(route.name) ?? 0) % eligible.length;
    this.#cursors.delete(route.name);
    this.#cursors.set(route.name, start + 1);
    if (this.#cursors.size > this.settings.maxRoutes) this.#cursors.delete(this.#cursors.keys().next().value ?? '');
    return [...eligible.slice(start), ...eligible.slice(0, start)];
  }

  /** The member that carried `session`'s request: it stays the session's while the session is used. */
  remember(route: Route, session: string | null, member: Member): void {
    if (session === null) return;
    const key = sessionKey(route, session);
    this.#sessions.delete(key);
    this.#sessions.set(key, { member: memberKey(member), lastUsed: this.now() });
    this.#sweep();
  }

  /** Sessions remembered now (for tests and metrics). */
  get sessions(): number {
    return this.#sessions.size;
  }

  #live(key: string): Sticky | undefined {
    const sticky = this.#sessions.get(key);
    if (sticky && this.now() - sticky.lastUsed > this.settings.idleMs) {
      this.#sessions.delete(key);
      return undefined;
    }
    return sticky;
  }

  /** The map is in order of last use: drop expired sessions from its front, and the oldest beyond the bound. */
  #sweep(): void {
    const now = this.now();
    for (const [key, sticky] of this.#sessions) {
      if (this.#sessions.size <= this.settings.maxSessions && now - sticky.lastUsed <= this.settings.idleMs) break;
      this.#sessions.delete(key);
    }
  }
}

function sessionKey(route: Route, session: string): string {
  return `${route.name}\u0000${session}`;
}
