import type { Relay } from './relay-list.js';

/**
 * Path selection for the shared tor's controller circuits, pure (randomness passed in). The rules follow tor's own:
 * - a few guards (GUARD_COUNT) with the Guard flag, kept as long as they stay listed and Running, so that every
 *   circuit of the shared tor enters the network through the same small set (a new guard per circuit would expose
 *   each proxy to many entry relays);
 * - a middle chosen at random, weighted by consensus bandwidth, for each circuit;
 * - no relay twice in a path, and no two relays of one declared family (both name each other);
 * - no two relays in one IPv4 /16, except on a testing network (tor sets EnforceDistinctSubnets 0 there; a private
 *   network's relays all live in 127.0.0.0/8);
 * - guards and middles without the Exit flag when there are any: exit capacity is scarce, and a middle or guard
 *   that is also some proxy's exit would take other proxies down with it when that exit goes.
 */
export const GUARD_COUNT = 3;

export interface PathRules {
  readonly testingNetwork: boolean;
}

export type Random = () => number;

export type PathChoice =
  | { readonly ok: true; readonly guard: string; readonly middle: string; readonly exit: string }
  | { readonly ok: false; readonly problem: string };

/** `current` guards still usable, topped up to `count` with new ones. */
export function chooseGuards(
  relays: ReadonlyMap<string, Relay>,
  current: readonly string[],
  rules: PathRules,
  random: Random,
  count = GUARD_COUNT,
): string[] {
  const kept = current.filter((fingerprint) => {
    const relay = relays.get(fingerprint);
    return relay !== undefined && isGuardCandidate(relay);
  });
  const chosen = kept.slice(0, count).map((fingerprint) => relays.get(fingerprint) as Relay);
  while (chosen.length < count) {
    const candidates = preferNonExit(
      [...relays.values()].filter(
        (relay) => isGuardCandidate(relay) && chosen.every((other) => compatible(relay, other, rules)),
      ),
    );
    const next = weightedPick(candidates, random);
    if (!next) break;
    chosen.push(next);
  }
  return chosen.map((relay) => relay.fingerprint);
}

/** guard, middle and `exit`: the first guard compatible with the exit, a random compatible middle. */
export function choosePath(
  relays: ReadonlyMap<string, Relay>,
  guards: readonly string[],
  exit: string,
  rules: PathRules,
  random: Random,
): PathChoice {
  const exitRelay = relays.get(exit);
  if (!exitRelay) return { ok: false, problem: `exit ${exit} is not in tor's consensus` };
  if (!exitRelay.flags.has('Running')) return { ok: false, problem: `exit ${exit} is not Running in tor's consensus` };
  const guard = guards
    .map((fingerprint) => relays.get(fingerprint))
    .find((relay): relay is Relay => relay !== undefined && compatible(relay, exitRelay, rules));
  if (!guard) return { ok: false, problem: `none of the guards (${guards.length}) may be used with exit ${exit}` };
  const middles = preferNonExit(
    [...relays.values()].filter(
      (relay) =>
        relay.flags.has('Running') &&
        relay.flags.has('Valid') &&
        compatible(relay, exitRelay, rules) &&
        compatible(relay, guard, rules),
    ),
  );
  const middle = weightedPick(middles, random);
  if (!middle)
    return { ok: false, problem: `no middle relay may go between guard ${guard.fingerprint} and exit ${exit}` };
  return { ok: true, guard: guard.fingerprint, middle: middle.fingerprint, exit };
}

/** The exit for a proxy's next circuit: the current one while allowed (sticky), else (or when rotating) a random one. */
export function chooseExit(
  relays: ReadonlyMap<string, Relay>,
  allowed: readonly string[],
  current: string | null,
  options: { readonly rotate: boolean; readonly avoid: ReadonlySet<string> },
  random: Random,
): string | null {
  const usable = allowed.filter((fingerprint) => relays.get(fingerprint)?.flags.has('Running') === true);
  if (usable.length === 0) return null;
  if (!options.rotate && current !== null && usable.includes(current) && !options.avoid.has(current)) return current;
  const fresh = usable.filter((fingerprint) => fingerprint !== current && !options.avoid.has(fingerprint));
  const pool = fresh.length > 0 ? fresh : usable;
  return pool[Math.min(pool.length - 1, Math.floor(random() * pool.length))] ?? null;
}

/** Two relays may share a path: distinct, not one family, and (off a testing network) not one /16. */
export function compatible(a: Relay, b: Relay, rules: PathRules): boolean {
  if (a.fingerprint === b.fingerprint) return false;
  if (a.family.has(b.fingerprint) && b.family.has(a.fingerprint)) return false;
  return rules.testingNetwork || slash16(a.address) !== slash16(b.address);
}

function isGuardCandidate(relay: Relay): boolean {
  return relay.flags.has('Guard') && relay.flags.has('Running') && relay.flags.has('Valid');
}

function preferNonExit(relays: readonly Relay[]): readonly Relay[] {
  const nonExits = relays.filter((relay) => !relay.flags.has('Exit'));
  return nonExits.length > 0 ? nonExits : relays;
}

function slash16(address: string): string {
  return address.split('.').slice(0, 2).join('.');
}

function weightedPick(relays: readonly Relay[], random: Random): Relay | undefined {
  const total = relays.reduce((sum, relay) => sum + relay.bandwidth, 0);
  let point = random() * total;
  for (const relay of relays) {
    point -= relay.bandwidth;
    if (point < 0) return relay;
  }
  return relays[relays.length - 1];
}
