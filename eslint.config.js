// @ts-check
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

const PLAN_IMPORTS =
  'plan/ is pure: it imports only plan/ itself, the fleet types (fleet/fleet-types.js), the geo rule ' +
  '(fleet/geo-match.js), the EligibleExit value (nodes/eligible-exit.js) and node:crypto (spec hashes); ' +
  'I/O, the runtime, the node sources and store, probes, the API, apply and reconcile stay at the edges';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'data/', 'shared-tor-data/', 'eslint.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] },
          ],
        },
      ],
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    // plan/ is pure (docs STYLE.md, principle 1): an allowlist, so anything new (an I/O module, a package, an edge)
    // is refused until someone argues it in. Tests are exempt: they build fixtures from files.
    files: ['reconciler/src/plan/**/*.ts'],
    ignores: ['reconciler/src/plan/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex:
                '^(?!\\./(?!.*\\.\\.)|\\.\\./fleet/(?:fleet-types|geo-match)\\.js$|\\.\\./nodes/eligible-exit\\.js$|node:crypto$)',
              message: PLAN_IMPORTS,
            },
          ],
        },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: 'ImportExpression', message: PLAN_IMPORTS },
        {
          selector: "NewExpression[callee.name='Date'][arguments.length=0]",
          message: 'plan/ reads no clock: take the time as an argument',
        },
      ],
      'no-restricted-globals': [
        'error',
        ...['process', 'fetch', 'require', 'setTimeout', 'setInterval', 'setImmediate'].map((name) => ({
          name,
          message: 'plan/ does no I/O and keeps no time: pass what it needs in',
        })),
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'plan/ reads no clock: take the time as an argument' },
        { object: 'Math', property: 'random', message: 'plan/ is deterministic: seed any hashing from names' },
      ],
    },
  },
  prettier,
);
