import { canonicalAddress, isWildcardAddress } from '../fleet/ip-address.js';
import type { ObservedProxy } from '../plan/plan-types.js';

/**
 * Where to dial a proxy bound to `bind`, from the reconciler's host. On this host (`nodeAddress` null: the
 * docker and process runtimes, a swarm task on the reconciler's own node) a wildcard bind is dialled on loopback
 * of its family (127.0.0.1 or ::1, which dials alike everywhere) and any other bind as it is. On another swarm
 * node a wildcard or loopback bind is dialled at that node's address; a bind to one address is that address
 * (the operator named where it listens).
 */
export function proxyDialHost(bind: string, nodeAddress: string | null | undefined): string {
  if (nodeAddress && (isWildcardAddress(bind) || isLoopback(bind))) return nodeAddress;
  if (!isWildcardAddress(bind)) return bind;
  return bind.includes(':') && !bind.includes('.') ? '::1' : '127.0.0.1';
}

function isLoopback(address: string): boolean {
  const canonical = canonicalAddress(address) ?? '';
  return canonical.startsWith('127.') || canonical === '0000:0000:0000:0000:0000:0000:0000:0001';
}

/**
 * The node address of every proxy that runs on another swarm node, from the runtime's latest listings. Every
 * consumer that dials proxies (the egress check, the gateway, the broker) asks here; `update` says whether
 * anything moved, so the gateway's routes and the broker's fleet are rebuilt only then.
 */
export class ProxyLocations {
  #addresses: ReadonlyMap<string, string> = new Map();
  #nodes: ReadonlyMap<string, string> = new Map();

  /** Takes a whole listing; true when a proxy's node address changed. */
  update(observed: readonly ObservedProxy[]): boolean {
    const next = new Map<string, string>();
    const nodes = new Map<string, string>();
    for (const proxy of observed) {
      if (!proxy.nodeAddress) continue;
      next.set(proxy.name, proxy.nodeAddress);
      if (proxy.node) nodes.set(proxy.name, proxy.node);
    }
    this.#nodes = nodes;
    const same = next.size === this.#addresses.size && [...next].every(([n, a]) => this.#addresses.get(n) === a);
    if (!same) this.#addresses = next;
    return !same;
  }

  /** The node address of a proxy on another node, or null (this host, or not known to run anywhere yet). */
  nodeAddress(proxy: string): string | null {
    return this.#addresses.get(proxy) ?? null;
  }

  /** The hostname of the other node a proxy runs on (its address when the runtime gave none), or null. */
  nodeName(proxy: string): string | null {
    return this.#nodes.get(proxy) ?? this.nodeAddress(proxy);
  }

  /** Every proxy on another node and its node's address, by name. */
  all(): Readonly<Record<string, string>> {
    return Object.fromEntries(this.#addresses);
  }
}
