import { LABEL } from './proxy-runtime.js';
import { SHARED_TOR_LABEL } from './shared-tor-runtime.js';
import { POOL_NAME, PROXY_NAME } from './tor-unit-paths.js';

const FINGERPRINTS = /^([0-9A-F]{40}(,[0-9A-F]{40})*)?$/;
const SPEC_HASH = /^[0-9a-f]{0,64}$/;

/**
 * Why a managed object's labels cannot be trusted, or undefined when they can: the proxy and pool names
 * match their patterns (the proxy belongs to the pool), the exits are fingerprints and it carries no
 * shared-tor label (an object is a proxy or a shared tor, see shared-tor-labels.ts). Pure.
 */
export function invalidLabel(labels: Readonly<Record<string, string>>): string | undefined {
  const proxy = labels[LABEL.proxy] ?? '';
  const pool = labels[LABEL.pool] ?? '';
  if (!PROXY_NAME.test(proxy)) return `${LABEL.proxy}=${JSON.stringify(proxy)} is not a proxy name (POOL-INDEX)`;
  if (!POOL_NAME.test(pool) || !proxy.startsWith(`${pool}-`))
    return `${LABEL.pool}=${JSON.stringify(pool)} is not the pool of proxy ${proxy}`;
  if (SHARED_TOR_LABEL in labels)
    return `${SHARED_TOR_LABEL} is set on proxy ${proxy}: an object is a proxy or a shared tor`;
  const exits = labels[LABEL.exits] ?? '';
  if (!FINGERPRINTS.test(exits)) return `${LABEL.exits}=${JSON.stringify(exits)} is not a list of fingerprints`;
  const specHash = labels[LABEL.specHash] ?? '';
  if (!SPEC_HASH.test(specHash)) return `${LABEL.specHash}=${JSON.stringify(specHash)} is not a spec hash`;
  return undefined;
}
