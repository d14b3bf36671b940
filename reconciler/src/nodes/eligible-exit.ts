/**
 * An exit relay a pool may use: running, flag Exit, not BadExit, a usable IPv4 exit address, a known country.
 * The node store produces these and the planner consumes them: a plain value, with no behaviour and no imports,
 * so that `plan/` depends on the value and never on the store.
 */
export interface EligibleExit {
  readonly fingerprint: string;
  readonly nickname: string;
  /** The IPv4 address its exit traffic leaves from (exit address when known, else OR address). */
  readonly address: string;
  readonly country: string;
  /** `a.b.0.0/16` of `address`. */
  readonly network: string;
}
