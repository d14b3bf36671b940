import type { EligibleExit } from '../nodes/eligible-exit.js';

/** Eligible exits that share one IPv4 /16: the unit a flexible proxy is pinned to. */
export interface ExitGroup {
  readonly network: string;
  readonly exits: readonly EligibleExit[];
}

/** Groups exits by /16, groups and members in a stable order (network, then fingerprint). */
export function groupBySlash16(exits: readonly EligibleExit[]): ExitGroup[] {
  const groups = new Map<string, EligibleExit[]>();
  for (const exit of exits) {
    const members = groups.get(exit.network);
    if (members) members.push(exit);
    else groups.set(exit.network, [exit]);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => compareNetworks(a, b))
    .map(([network, members]) => ({
      network,
      exits: members.sort((x, y) => (x.fingerprint < y.fingerprint ? -1 : x.fingerprint > y.fingerprint ? 1 : 0)),
    }));
}

function compareNetworks(a: string, b: string): number {
  const [a1 = 0, a2 = 0] = a.split('.').map(Number);
  const [b1 = 0, b2 = 0] = b.split('.').map(Number);
  return a1 - b1 || a2 - b2;
}
