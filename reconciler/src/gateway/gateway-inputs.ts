import type { Fleet } from '../fleet/fleet-types.js';
import type { Plan } from '../plan/plan-types.js';
import type { GatewayFeed } from '../service/gateway-runnable.js';
import { toWire, type GatewayInput } from './gateway-input.js';

/**
 * The gateway input of a fleet: its pools and `gateway` section, its proxies' exit countries from a plan, and
 * where the proxies on other swarm nodes run (ProxyLocations.all(); none outside `torfleet run`).
 */
export function gatewayInputOf(
  fleet: Fleet,
  plan: Plan | null,
  corporate: boolean,
  nodeAddresses: Readonly<Record<string, string>> = {},
): GatewayInput {
  const exitCountries: Record<string, readonly string[]> = {};
  for (const change of plan?.changes ?? []) {
    if (change.after) exitCountries[change.after.name] = change.after.exits.countries;
  }
  return { pools: fleet.pools, gateway: fleet.gateway, exitCountries, nodeAddresses, corporate };
}

/** The latest gateway input; listeners hear of a new one only when it differs from the last. */
export class GatewayInputs implements GatewayFeed {
  #current: GatewayInput | null = null;
  #key = 'null';
  readonly #listeners = new Set<() => void>();

  current(): GatewayInput | null {
    return this.#current;
  }

  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  set(input: GatewayInput | null): void {
    const key = JSON.stringify(input && toWire(input));
    if (key === this.#key) return;
    this.#key = key;
    this.#current = input;
    for (const listener of this.#listeners) listener();
  }
}
