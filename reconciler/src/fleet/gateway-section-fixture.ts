import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FleetValidationError, formatIssue, type FleetIssue } from './fleet-issue.js';
import { parseFleet, type LoadedFleet } from './load-fleet.js';

/**
 * Fleet texts and a bad-case runner for the gateway section's tests (gateway-section.test.ts,
 * gateway-routes.test.ts). Lines 1-13: two pools, `eu` ([DE, NL], 2 proxies from 19050) and `us` (US, 3 from
 * 19100); line 14 `gateway:`; the gateway lines from line 15, each key at column 3 (a value at 3 + key length + 2).
 */
export const POOLS = `apiVersion: torfleet/v1
kind: Fleet
pools:
  - name: eu
    geo: [DE, NL]
    mode: strict
    count: 2
    basePort: 19050
  - name: us
    geo: US
    mode: strict
    count: 3
    basePort: 19100
`;

export const gateway = (...lines: string[]): string => `${POOLS}gateway:\n${lines.map((l) => `  ${l}\n`).join('')}`;

/** One upstream at line 16 (name value at 16:13), its url at 17:12 and any further key from 18:7. */
export const upstream = (url: string, ...more: string[]): string =>
  gateway('upstreams:', '  - name: prov', `    url: ${url}`, ...more.map((l) => `    ${l}`));

/** pools: [] and a gateway section from line 5. */
export const upstreamsOnly = (...lines: string[]): string =>
  `apiVersion: torfleet/v1\nkind: Fleet\npools: []\ngateway:\n${lines.map((l) => `  ${l}\n`).join('')}`;

export const TOKEN = 'tok-0123456789abcdef';

export interface BadCase {
  readonly name: string;
  readonly text: string;
  readonly env?: Record<string, string>;
  readonly path: string;
  readonly at: readonly [line: number, column: number];
  readonly says: string;
  /** Text that must show in no message (a literal credential); every env value is checked too. */
  readonly hides?: readonly string[];
}

export function issuesOf(text: string, env: Record<string, string> = {}): FleetIssue[] {
  try {
    parseFleet('fleet.yaml', text, { env });
  } catch (error) {
    assert.ok(error instanceof FleetValidationError, `expected a FleetValidationError, got ${String(error)}`);
    return [...error.issues];
  }
  assert.fail('the fleet was accepted');
}

/** Every way an issue reaches a user: its JSON and its formatted line. */
export const everything = (issues: readonly FleetIssue[]): string =>
  JSON.stringify(issues) + issues.map(formatIssue).join('');

export function load(text: string, env: Record<string, string> = {}): LoadedFleet {
  return parseFleet('fleet.yaml', text, { env });
}

/** One test per case: an issue at the path and line:column saying the text, and no hidden text anywhere. */
export function testBadCases(cases: readonly BadCase[]): void {
  for (const bad of cases) {
    test(bad.name, () => {
      const issues = issuesOf(bad.text, bad.env);
      const match = issues.find((issue) => issue.path === bad.path && issue.message.includes(bad.says));
      assert.ok(match, `no issue at ${bad.path} saying "${bad.says}"; got:\n${issues.map(formatIssue).join('\n')}`);
      assert.deepEqual([match.line, match.column], bad.at, formatIssue(match));
      const shown = everything(issues);
      for (const hidden of [...(bad.hides ?? []), ...Object.values(bad.env ?? {})]) {
        assert.ok(!shown.includes(hidden), `${hidden} shows in ${shown}`);
      }
    });
  }
}
