import type { ObservedProxy, ObservedState } from '../plan/plan-types.js';
import { LABEL } from './proxy-runtime.js';

/** The part of Docker's container list entry the mapper reads. */
export interface ContainerSummary {
  readonly Id: string;
  readonly Labels?: Readonly<Record<string, string>> | null;
  readonly State?: string;
  readonly Created?: number;
}

/**
 * Docker's view of a container → an ObservedProxy, or undefined when it is not torfleet's
 * (no `torfleet.managed=true`, or labels missing). Pure.
 */
export function mapContainer(container: ContainerSummary): ObservedProxy | undefined {
  const labels = container.Labels ?? {};
  if (labels[LABEL.managed] !== 'true') return undefined;
  const name = labels[LABEL.proxy];
  const pool = labels[LABEL.pool];
  if (!name || !pool) return undefined;
  const exits = labels[LABEL.exits] ?? '';
  return {
    name,
    pool,
    id: container.Id,
    state: stateOf(container.State),
    specHash: labels[LABEL.specHash] ?? '',
    exitFingerprints: exits === '' ? [] : exits.split(','),
    revision: labels[LABEL.revision] ?? '',
    startedAt: container.Created === undefined ? null : new Date(container.Created * 1000).toISOString(),
  };
}

/** Docker states: created, restarting, running, removing, paused, exited, dead. */
export function stateOf(state: string | undefined): ObservedState {
  if (state === 'running') return 'running';
  if (state === 'restarting') return 'restarting';
  return 'stopped';
}
