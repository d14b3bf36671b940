import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { packagePath } from '../package-root.js';

/**
 * The Python broker client's own tests (clients/python/test_torfleet_client.py: the conformance suite against the
 * fixture broker of dist/, hostile peers, TLS) run by `make test`: `python3 -m unittest -v` in clients/python.
 */
test('the Python broker client passes its unittest suite', { timeout: 240_000 }, async () => {
  const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
    const child = spawn('python3', ['-m', 'unittest', '-v'], {
      cwd: packagePath('clients', 'python'),
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.once('error', reject);
    child.once('close', (exitCode) => {
      resolve({ code: exitCode, output: Buffer.concat(chunks).toString('utf8') });
    });
  });
  assert.equal(code, 0, `python3 -m unittest -v in clients/python failed:\n${output}`);
});
