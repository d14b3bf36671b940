/** The settings the score reads (BrokerHealthSettings has them all). */
export interface ScoreSettings {
  readonly halfLifeMs: number;
  readonly priorSuccesses: number;
  readonly latencyScaleMs: number;
}

/**
 * A proxy's observations, each weighted 2^(−age / halfLife): sums as of `at`. Successes count 1, proxy faults 0;
 * latency is the weighted mean over the observations that carried one (successes only: a fault's latency is how
 * long it took to fail). A plain value: the model stores it and replaces it on each observation.
 */
export interface DecayingScore {
  readonly at: number;
  readonly successes: number;
  readonly weight: number;
  readonly latencySum: number;
  readonly latencyWeight: number;
}

export function emptyScore(at: number): DecayingScore {
  return { at, successes: 0, weight: 0, latencySum: 0, latencyWeight: 0 };
}

/** 2^(−elapsed / halfLife); a clock that went back counts as no time. */
function decay(settings: ScoreSettings, from: number, to: number): number {
  return 2 ** (-Math.max(0, to - from) / settings.halfLifeMs);
}

/** The score after one more observation at `now`: older sums decay first, then this one is added at weight 1. */
export function observe(
  score: DecayingScore,
  settings: ScoreSettings,
  now: number,
  ok: boolean,
  latencyMs: number | null,
): DecayingScore {
  const d = decay(settings, score.at, now);
  const timed = ok && latencyMs !== null && Number.isFinite(latencyMs) && latencyMs >= 0;
  return {
    at: Math.max(score.at, now),
    successes: score.successes * d + (ok ? 1 : 0),
    weight: score.weight * d + 1,
    latencySum: score.latencySum * d + (timed ? latencyMs : 0),
    latencyWeight: score.latencyWeight * d + (timed ? 1 : 0),
  };
}

/** (Σ w·ok + prior) / (Σ w + prior) at `now`: 1 with no observations; old faults fade back towards 1. */
export function successRate(score: DecayingScore, settings: ScoreSettings, now: number): number {
  const d = decay(settings, score.at, now);
  return (score.successes * d + settings.priorSuccesses) / (score.weight * d + settings.priorSuccesses);
}

/** Σ w·latency / Σ w over timed successes (decay cancels out in the ratio); null before the first. */
export function meanLatencyMs(score: DecayingScore): number | null {
  return score.latencyWeight > 0 ? score.latencySum / score.latencyWeight : null;
}

/**
 * The health score in [0, 1]: successRate × scale / (scale + meanLatency); an unknown latency counts as 0, so an
 * unmeasured proxy is tried rather than shunned. The better of two candidates is the one with the higher score.
 */
export function proxyScore(score: DecayingScore, settings: ScoreSettings, now: number): number {
  const latency = meanLatencyMs(score) ?? 0;
  return (successRate(score, settings, now) * settings.latencyScaleMs) / (settings.latencyScaleMs + latency);
}
