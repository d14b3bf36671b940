/** A proxy that may take the lease, as the choice sees it. */
export interface Candidate {
  readonly proxyId: string;
  readonly score: number;
  readonly openConnections: number;
  /** On trial with a trial lease free: it takes the lease before any other. */
  readonly trial: boolean;
}

/** How the lease's proxy was chosen (for metrics and the answer's `strategy`). */
export type ChoiceRule = 'trial' | 'only' | 'power_of_two_choices' | 'fewest_connections';

export interface Choice {
  readonly candidate: Candidate;
  readonly rule: ChoiceRule;
}

/**
 * Which candidate gets the lease. A trial candidate first (the first in the given order), so a cooled-down proxy
 * is decided soon. Websocket leases (long-lived): the fewest open connections, then the higher score, then at
 * random among equals. Otherwise "power of two choices": two different candidates drawn at random, the higher
 * score wins (the first drawn on a tie). `random` returns [0, 1); none: null.
 */
export function chooseProxy(candidates: readonly Candidate[], websocket: boolean, random: () => number): Choice | null {
  const trial = candidates.find((candidate) => candidate.trial);
  if (trial) return { candidate: trial, rule: 'trial' };
  if (candidates.length <= 1) {
    const only = candidates[0];
    return only ? { candidate: only, rule: 'only' } : null;
  }
  if (websocket) return { candidate: fewestConnections(candidates, random), rule: 'fewest_connections' };
  const first = Math.floor(random() * candidates.length);
  const drawn = Math.floor(random() * (candidates.length - 1));
  const second = drawn >= first ? drawn + 1 : drawn;
  const a = candidates[first] as Candidate;
  const b = candidates[second] as Candidate;
  return { candidate: b.score > a.score ? b : a, rule: 'power_of_two_choices' };
}

function fewestConnections(candidates: readonly Candidate[], random: () => number): Candidate {
  // reduce, not Math.min(...): a spread of a very large pool would overflow the stack.
  const fewest = candidates.reduce((min, candidate) => Math.min(min, candidate.openConnections), Infinity);
  const least = candidates.filter((candidate) => candidate.openConnections === fewest);
  const best = least.reduce((max, candidate) => Math.max(max, candidate.score), -Infinity);
  const ties = least.filter((candidate) => candidate.score === best);
  return ties[Math.floor(random() * ties.length)] as Candidate;
}
