import { GEO_CATEGORIES, type GeoCategory } from '../fleet/fleet-types.js';
import { eligibleCategory, type NodeSnapshot } from './relay.js';

/** What the guard needs to know of a snapshot: when it was published and its eligible exits per geo category. */
export interface SnapshotSummary {
  readonly relaysPublished: Date;
  readonly relays: number;
  readonly exits: Readonly<Record<GeoCategory, number>>;
}

/** Why a snapshot was refused; stable values (logs, the refresh log, the API). */
export type RefusalReason = 'older' | 'future' | 'empty' | 'exit_drop';

export type GuardDecision =
  | { readonly kind: 'accept'; readonly overridden: RefusalReason | null }
  /** Same relays_published as the stored snapshot: the same data again, kept as it is (not a refusal). */
  | { readonly kind: 'unchanged' }
  | { readonly kind: 'refuse'; readonly reason: RefusalReason; readonly message: string };

export interface GuardPolicy {
  /** Largest share (0-1) of a geo category's eligible exits one snapshot may remove. */
  readonly maxDrop: number;
  /** How far in the future relays_published may be (clock skew between source and torfleet). */
  readonly maxFutureSkewMs: number;
  /** The operator accepts this snapshot whatever the checks say (`nodes refresh --accept-snapshot`). */
  readonly accept: boolean;
}

export const MAX_FUTURE_SKEW_MS = 3_600_000;

/**
 * Decides whether `incoming` may replace `stored` (null before the first snapshot). Storing it is what the planner
 * then acts on, so a snapshot that would empty or gut the fleet is refused and the stored one kept:
 * - `future`: published beyond the allowed skew. Accepted, it would make every correct later snapshot look older.
 * - `older`: published before the stored one (a stale mirror or cache).
 * - `empty`: no eligible exit at all, even as the first snapshot (it would delete every proxy).
 * - `exit_drop`: a geo category loses more than `maxDrop` of its eligible exits. Checked per category, not overall:
 *   US is about a fifth of the exits, so losing every US exit is a 20% drop overall yet empties every US pool;
 *   and an overall drop beyond the share always shows in at least one category.
 * A later snapshot is judged against the stored one, so one that passes is stored and ends the refusal.
 */
export function decideSnapshot(
  stored: SnapshotSummary | null,
  incoming: SnapshotSummary,
  now: Date,
  policy: GuardPolicy,
): GuardDecision {
  if (stored !== null && incoming.relaysPublished.getTime() === stored.relaysPublished.getTime()) {
    return { kind: 'unchanged' };
  }
  const refusal = firstRefusal(stored, incoming, now, policy);
  if (refusal === null) return { kind: 'accept', overridden: null };
  if (policy.accept) return { kind: 'accept', overridden: refusal.reason };
  return { kind: 'refuse', ...refusal };
}

function firstRefusal(
  stored: SnapshotSummary | null,
  incoming: SnapshotSummary,
  now: Date,
  policy: GuardPolicy,
): { reason: RefusalReason; message: string } | null {
  const published = incoming.relaysPublished.toISOString();
  if (incoming.relaysPublished.getTime() > now.getTime() + policy.maxFutureSkewMs) {
    return {
      reason: 'future',
      message: `relays_published ${published} is in the future (now ${now.toISOString()}); check the source's and this machine's clocks`,
    };
  }
  if (stored !== null && incoming.relaysPublished < stored.relaysPublished) {
    return {
      reason: 'older',
      message: `relays_published ${published} is older than the stored snapshot's ${stored.relaysPublished.toISOString()}`,
    };
  }
  if (incoming.exits.US + incoming.exits.NON_US === 0) {
    return {
      reason: 'empty',
      message:
        incoming.relays === 0
          ? `the snapshot published ${published} lists no relays`
          : `the snapshot published ${published} lists ${incoming.relays} relays but no eligible exit`,
    };
  }
  if (stored === null) return null;
  for (const category of GEO_CATEGORIES) {
    const before = stored.exits[category];
    const after = incoming.exits[category];
    if (before > 0 && (before - after) / before > policy.maxDrop) {
      return {
        reason: 'exit_drop',
        message: `the snapshot published ${published} has ${after} eligible ${category} exits, down from ${before} (more than ${Math.round(policy.maxDrop * 100)}% gone at once; TORFLEET_NODES_MAX_DROP)`,
      };
    }
  }
  return null;
}

/** The guard's view of a fetched snapshot: its eligible exits counted as the store will count them. */
export function summarizeSnapshot(snapshot: NodeSnapshot): SnapshotSummary {
  const exits = { US: 0, NON_US: 0 };
  for (const relay of snapshot.relays) {
    const category = eligibleCategory(relay);
    if (category !== null) exits[category]++;
  }
  return { relaysPublished: snapshot.relaysPublished, relays: snapshot.relays.length, exits };
}
