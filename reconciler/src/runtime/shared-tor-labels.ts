import type { ObservedSharedTor } from '../plan/plan-types.js';
import type { SharedTorSpec } from '../plan/shared-tor-types.js';
import { stateOf, type ContainerSummary } from './map-container.js';
import { LABEL } from './proxy-runtime.js';
import { SHARED_TOR_LABEL } from './shared-tor-runtime.js';
import { POOL_NAME, SHARED_TOR_NAME } from './tor-unit-paths.js';

const SPEC_HASH = /^[0-9a-f]{0,64}$/;

/** The labels of a shared tor torfleet starts, whichever runtime runs it: no `torfleet.proxy`, no exits. */
export function sharedTorLabels(spec: SharedTorSpec, instance: string, revision: string): Record<string, string> {
  return {
    [LABEL.managed]: 'true',
    [LABEL.instance]: instance,
    [LABEL.pool]: spec.pool,
    [SHARED_TOR_LABEL]: spec.name,
    [LABEL.specHash]: spec.specHash,
    [LABEL.revision]: revision,
  };
}

/** Whether an object claims to be a shared tor (it carries the label, valid or not): never listed as a proxy. */
export function isSharedTorObject(labels: Readonly<Record<string, string>> | null | undefined): boolean {
  return labels != null && SHARED_TOR_LABEL in labels;
}

/**
 * Why a managed shared tor's labels cannot be trusted, or undefined when they can: its name is `POOL-torK`
 * of its pool, it carries no proxy label (an object is one or the other) and its spec hash is hex. Pure.
 */
export function invalidSharedTorLabel(labels: Readonly<Record<string, string>>): string | undefined {
  const name = labels[SHARED_TOR_LABEL] ?? '';
  const pool = labels[LABEL.pool] ?? '';
  if (!SHARED_TOR_NAME.test(name))
    return `${SHARED_TOR_LABEL}=${JSON.stringify(name)} is not a shared tor name (POOL-torK)`;
  if (!POOL_NAME.test(pool) || name.slice(0, name.lastIndexOf('-')) !== pool)
    return `${LABEL.pool}=${JSON.stringify(pool)} is not the pool of shared tor ${name}`;
  if (LABEL.proxy in labels) return `${LABEL.proxy} is set on shared tor ${name}: an object is a proxy or a shared tor`;
  const specHash = labels[LABEL.specHash] ?? '';
  if (!SPEC_HASH.test(specHash)) return `${LABEL.specHash}=${JSON.stringify(specHash)} is not a spec hash`;
  return undefined;
}

/** A container (or process record) with valid shared-tor labels → an ObservedSharedTor; undefined when not managed. Pure. */
export function mapSharedTor(container: ContainerSummary): ObservedSharedTor | undefined {
  const labels = container.Labels ?? {};
  if (labels[LABEL.managed] !== 'true') return undefined;
  const name = labels[SHARED_TOR_LABEL];
  const pool = labels[LABEL.pool];
  if (!name || !pool) return undefined;
  return { name, pool, id: container.Id, state: stateOf(container.State), specHash: labels[LABEL.specHash] ?? '' };
}

/**
 * Why an object must not be removed as this instance's shared tor `name` (its labels say otherwise, or cannot be
 * trusted), or undefined when it is that shared tor. Pure.
 */
export function refuseSharedTorRemoval(
  labels: Readonly<Record<string, string>>,
  instance: string,
  name: string,
): string | undefined {
  const ours =
    labels[LABEL.managed] === 'true' &&
    labels[LABEL.instance] === instance &&
    labels[SHARED_TOR_LABEL] === name &&
    invalidSharedTorLabel(labels) === undefined;
  return ours
    ? undefined
    : `it is not labelled ${LABEL.managed}=true, ${LABEL.instance}=${instance} and ${SHARED_TOR_LABEL}=${name}`;
}
