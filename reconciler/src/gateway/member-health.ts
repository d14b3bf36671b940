import { cooldownMs, type CooldownSettings } from '../health/cooldown.js';
import type { Member } from './route-types.js';

/** The cool-down ladder (`baseCooldownMs` doubling per ejection in a row, up to `maxCooldownMs`, jittered). */
export interface EjectionSettings extends CooldownSettings {
  /** Consecutive failures (before the tunnel was up) that eject a member. */
  readonly failuresToEject: number;
  /** Members remembered at most (only failing ones are kept); the oldest is forgotten first. */
  readonly maxTracked: number;
}

export const DEFAULT_EJECTION: EjectionSettings = {
  failuresToEject: 3,
  baseCooldownMs: 1_000,
  maxCooldownMs: 60_000,
  jitterRatio: 0.2,
  maxTracked: 10_000,
};

/** A member's identity across route table updates: the same proxy at the same address. */
export function memberKey(member: Member): string {
  return `${member.kind}\u0000${member.id}\u0000${member.host}\u0000${member.port}`;
}

interface HealthRecord {
  failures: number;
  ejections: number;
  ejectedUntil: number;
}

/**
 * Passive health: what the dials themselves show about each member. Pure (clock and randomness passed in).
 * `failuresToEject` failures in a row eject a member for a cool-down (1 s doubling to 60 s, jittered); once the
 * cool-down ends it is tried again, and one more failure ejects it again for twice as long. One success forgets all.
 */
export class MemberHealth {
  readonly #records = new Map<string, HealthRecord>();

  constructor(
    private readonly settings: EjectionSettings,
    private readonly now: () => number,
    private readonly random: () => number,
  ) {}

  success(member: Member): void {
    this.#records.delete(memberKey(member));
  }

  /** Counts a failure; returns the cool-down when this failure ejected the member, else null. */
  failure(member: Member): number | null {
    const key = memberKey(member);
    const record = this.#records.get(key) ?? { failures: 0, ejections: 0, ejectedUntil: 0 };
    this.#records.delete(key);
    this.#records.set(key, record);
    while (this.#records.size > this.settings.maxTracked)
      this.#records.delete(this.#records.keys().next().value ?? key);
    record.failures++;
    const now = this.now();
    // A failure while still cooling down (tried only because of the half-route cap) does not escalate.
    if (record.failures < this.settings.failuresToEject || record.ejectedUntil > now) return null;
    const cooldown = cooldownMs(this.settings, record.ejections, this.random());
    record.ejections++;
    record.ejectedUntil = now + cooldown;
    return cooldown;
  }

  /**
   * The members of `members` that are ejected now: never more than half of them (rounded down). When more are
   * cooling down, those whose cool-down ends first are let back, so a route always keeps half its members.
   */
  ejected(members: readonly Member[]): ReadonlySet<Member> {
    const now = this.now();
    const cooling = members
      .map((member) => ({ member, until: this.#records.get(memberKey(member))?.ejectedUntil ?? 0 }))
      .filter((entry) => entry.until > now)
      .sort((a, b) => b.until - a.until);
    return new Set(cooling.slice(0, Math.floor(members.length / 2)).map((entry) => entry.member));
  }
}
