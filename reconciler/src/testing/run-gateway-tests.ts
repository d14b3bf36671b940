/**
 * `npm run test:gateway`: the gateway's own tests, on any platform Node runs on (the GitHub workflow runs
 * them on Linux, macOS and Windows without the optional native packages). Lists the built test files of
 * gateway/ and of the gateway command, then runs node:test on them; its exit code is this one's.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const src = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const inDir = (dir: string, keep: (name: string) => boolean): string[] =>
  readdirSync(path.join(src, dir))
    .filter((name) => name.endsWith('.test.js') && keep(name))
    .map((name) => path.join(src, dir, name));
const files = [
  ...inDir('gateway', () => true),
  ...inDir('cli', (name) => name.startsWith('gateway-')),
  ...inDir('service', (name) => name.startsWith('gateway-')),
].sort();
const result = spawnSync(process.execPath, ['--test', '--test-concurrency=2', ...files], { stdio: 'inherit' });
process.exitCode = result.status ?? 1;
