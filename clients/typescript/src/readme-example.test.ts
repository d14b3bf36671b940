import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import ts from 'typescript';
import { REPO } from './fixture.js';

/** The READMEs' usage examples (this package's, and the repository's) compile against the real API, strict. */
for (const readme of [path.join(REPO, 'clients', 'typescript', 'README.md'), path.join(REPO, 'README.md')]) {
  test(`the usage example of ${path.relative(REPO, readme)} type-checks against the API`, () => {
    const text = readFileSync(readme, 'utf8');
    const example = /```ts\n(import [^\n]*'@torfleet\/client';[\s\S]*?)```/.exec(text)?.[1];
    assert.ok(example, 'a ```ts block importing @torfleet/client');
    typeCheck(example);
  });
}

function typeCheck(example: string): void {
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
}
