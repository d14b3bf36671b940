import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import path from 'node:path';
import { ESLint, type Linter } from 'eslint';
import tseslint from 'typescript-eslint';
import { packageRoot } from '../package-root.js';

/**
 * The repository's own ESLint configuration keeps `plan/` pure (STYLE.md, principle 1). The rules come from
 * the real eslint.config.js, as ESLint computes them for a file under plan/ (and for one elsewhere), and bite
 * source text through ESLint's Node API, so the rule cannot silently stop working. Only these rules run: the
 * type-aware ones would need a TypeScript program of the whole project for each text.
 */
const PURITY_RULES = [
  'no-restricted-imports',
  'no-restricted-syntax',
  'no-restricted-globals',
  'no-restricted-properties',
];
const project = new ESLint({ cwd: packageRoot });

async function purityRules(file: string): Promise<Linter.RulesRecord> {
  const config = (await project.calculateConfigForFile(path.join(packageRoot, file))) as Linter.Config;
  return Object.fromEntries(
    Object.entries(config.rules ?? {}).filter(([rule]) => PURITY_RULES.includes(rule)),
  ) as Linter.RulesRecord;
}

async function purityFindings(code: string, file = 'reconciler/src/plan/scratch-purity.ts'): Promise<string[]> {
  const eslint = new ESLint({
    cwd: packageRoot,
    overrideConfigFile: true,
    overrideConfig: [
      { files: ['**/*.ts'], languageOptions: { parser: tseslint.parser }, rules: await purityRules(file) },
    ],
  });
  const [result] = await eslint.lintText(code, { filePath: path.join(packageRoot, file) });
  return (result?.messages ?? []).map((m) => `${m.ruleId ?? 'parse'}: ${m.message}`);
}

describe('plan/ stays pure: the ESLint rule bites', () => {
  const REFUSED: readonly [string, string][] = [
    ['node:fs', "import { readFileSync } from 'node:fs';\nexport const f = readFileSync;\n"],
    ['fs without the node: prefix', "import { readFileSync } from 'fs';\nexport const f = readFileSync;\n"],
    ['node:child_process', "import { spawn } from 'node:child_process';\nexport const f = spawn;\n"],
    ['a package (better-sqlite3)', "import Database from 'better-sqlite3';\nexport const f = Database;\n"],
    ['the node store', "import { NodeStore } from '../nodes/node-store.js';\nexport const f = NodeStore;\n"],
    ['a node store type', "import type { NodeStats } from '../nodes/node-stats.js';\nexport type T = NodeStats;\n"],
    ['the runtime', "export * from '../runtime/proxy-runtime.js';\n"],
    ['the fleet loader', "import { loadFleet } from '../fleet/load-fleet.js';\nexport const f = loadFleet;\n"],
    ['the fleet source', "export * from '../fleet-source/git-source.js';\n"],
    ['the probe', "export * from '../probe/egress-probe.js';\n"],
    ['the API', "export * from '../api/proxy-view.js';\n"],
    ['apply', "export * from '../apply/apply-plan.js';\n"],
    ['reconcile', "export * from '../reconcile/reconcile-pass.js';\n"],
    ['tor-control', "export * from '../tor-control/control-client.js';\n"],
    ['http-client', "export * from '../http-client/fetch-document.js';\n"],
    ['fs/', "export * from '../fs/read-regular-file.js';\n"],
    ['a way round through plan/', "export * from './../nodes/node-store.js';\n"],
    ['a dynamic import', "export const f = () => import('node:fs');\n"],
    ['the environment', 'export const f = () => process.env.HOME;\n'],
    ['the clock', 'export const f = () => Date.now();\n'],
    ['a clock reading by new Date()', 'export const f = () => new Date();\n'],
    ['randomness', 'export const f = () => Math.random();\n'],
    ['a timer', 'export const f = (g: () => void) => setTimeout(g, 1);\n'],
  ];
  for (const [name, code] of REFUSED) {
    test(`refuses ${name}`, async () => {
      const findings = await purityFindings(code);
      assert.equal(
        findings.length,
        1,
        `expected one purity finding for ${JSON.stringify(code)}, got ${JSON.stringify(findings)}`,
      );
    });
  }

  test('allows plan/ itself, the fleet types, the geo rule, the EligibleExit value and node:crypto', async () => {
    const code = [
      "import { createHash } from 'node:crypto';",
      "import type { PoolSpec } from '../fleet/fleet-types.js';",
      "import { countryInGeo } from '../fleet/geo-match.js';",
      "import type { EligibleExit } from '../nodes/eligible-exit.js';",
      "import type { Plan } from './plan-types.js';",
      'export type T = [PoolSpec, EligibleExit, Plan];',
      'export const f = [createHash, countryInGeo];',
      "export const parsed = new Date('2022-11-19T10:00:00Z');",
      '',
    ].join('\n');
    assert.deepEqual(await purityFindings(code), []);
  });

  test('the rule is about plan/ only: an edge may import node:fs', async () => {
    const code = "import { readFileSync } from 'node:fs';\nexport const f = readFileSync;\n";
    assert.deepEqual(await purityFindings(code, 'reconciler/src/nodes/scratch-purity.ts'), []);
  });
});
