/**
 * The name of shared tor K of pool POOL: `POOL-torK` (`us-strict-tor0`; container `torfleet-us-strict-tor0`).
 *
 * It never equals a proxy name: a proxy is `POOL-i`, whose text after the last hyphen is digits only, and here
 * that text is `tor` and digits. It never equals another pool's shared tor: K has no hyphen, so the last hyphen
 * of the name is the one before `tor`, and POOL is everything before it. Pool names match
 * `^[a-z][a-z0-9-]{0,30}$`, so the name holds only lowercase letters, digits and hyphens (a valid Docker
 * container and Swarm service name: no dot or underscore) and is at most 31 + 4 + 4 characters long.
 */
export function sharedTorName(pool: string, index: number): string {
  return `${pool}-tor${index}`;
}

/** Which shared tor serves proxy `index` of a pool packed `proxiesPerTor` to a tor: stable while N stays. */
export function sharedTorIndexOf(index: number, proxiesPerTor: number): number {
  return Math.floor(index / proxiesPerTor);
}

/** How many shared tors a pool of `count` proxies packed `proxiesPerTor` to a tor needs. */
export function sharedTorCount(count: number, proxiesPerTor: number): number {
  return Math.ceil(count / proxiesPerTor);
}
