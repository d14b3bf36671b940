import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import ts from 'typescript';
import { REPO } from './fixture.js';

/** The README's usage example compiles against the real API (the package's source), strict. */
test('the README usage example type-checks against the API', () => {
  const readme = readFileSync(path.join(REPO, 'clients', 'typescript', 'README.md'), 'utf8');
  const example = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(example, 'a ```ts block in the README');
  const dir = mkdtempSync(path.join(tmpdir(), 'torfleet-tsclient-readme-'));
  try {
    const index = path.join(REPO, 'clients', 'typescript', 'src', 'index.js');
    writeFileSync(path.join(dir, 'package.json'), '{"type": "module"}');
    const file = path.join(dir, 'example.ts');
    writeFileSync(file, example.replace("'@torfleet/client'", JSON.stringify(index)));
    const program = ts.createProgram([file], {
      target: ts.ScriptTarget.ES2023,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      strict: true,
      noUncheckedIndexedAccess: true,
      noEmit: true,
      skipLibCheck: true,
      types: ['node'],
      typeRoots: [path.join(REPO, 'node_modules', '@types')],
    });
    const problems = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    assert.deepEqual(problems, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
