import { NOT_EJECTED, type EjectionState } from './ejection.js';
import { emptyScore, type DecayingScore } from './proxy-score.js';

/** What the model keeps of one proxy (mutable: the model is its only writer). */
export interface ProxyRecord {
  score: DecayingScore;
  ejection: EjectionState;
  /** `connect` events that succeeded minus `release` events, never below 0. */
  open: number;
  /** Totals: successes and proxy faults as judged (after the exchange rule), blocks by a target. */
  successes: number;
  faults: number;
  blocks: number;
}

export function newProxyRecord(now: number): ProxyRecord {
  return { score: emptyScore(now), ejection: NOT_EJECTED, open: 0, successes: 0, faults: 0, blocks: 0 };
}
