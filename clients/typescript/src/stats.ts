import type { BreakerState } from './breaker.js';

/** The counters of stats(), all from 0 (the Python client's, camelCase; `caReloads` is this client's own). */
export const COUNTER_NAMES = [
  'requests',
  'cacheHits',
  'staleServed',
  'serviceAnswers',
  'embedded',
  'direct',
  'noProxy',
  'refreshes',
  'refreshFailures',
  'serviceFailures',
  'feedbackQueued',
  'feedbackSent',
  'feedbackDropped',
  'feedbackInvalid',
  'feedbackRejected',
  'feedbackBatches',
  'endpointReloads',
  'endpointReloadErrors',
  'tokenReloads',
  'caReloads',
] as const;

export type CounterName = (typeof COUNTER_NAMES)[number];
export type Counters = Record<CounterName, number>;

export const newCounters = (): Counters =>
  Object.fromEntries(COUNTER_NAMES.map((name) => [name, 0])) as Record<CounterName, number>;

export interface EndpointStats {
  readonly url: string;
  readonly state: BreakerState;
  readonly lastError: string | null;
}

export type ClientStats = Readonly<Counters> & {
  readonly feedbackPending: number;
  readonly cacheEntries: number;
  readonly endpoints: readonly EndpointStats[];
};
