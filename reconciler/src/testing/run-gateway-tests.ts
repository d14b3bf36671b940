/**
 * `npm run test:gateway`: the gateway's own tests, on any platform Node runs on (the GitHub workflow runs
 * them on Linux, macOS and Windows without the optional native packages). Lists the built test files of
 * gateway/ and of the gateway command, then runs node:test on them; its exit code is this one's. Where Debian's
 * microsocks or tinyproxy is not on the PATH (macOS, Windows), the files that start them are left out, by name.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
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
const onPath = (program: string): boolean =>
  spawnSync(process.platform === 'win32' ? 'where' : 'which', [program], { stdio: 'ignore' }).status === 0;
const missing = ['microsocks', 'tinyproxy'].filter((program) => !onPath(program));
const needs = (file: string): boolean => {
  const text = readFileSync(file, 'utf8');
  return missing.some((program) => text.includes(program)) || text.includes('proxy-daemons.js');
};
const left = missing.length === 0 ? [] : files.filter(needs);
if (left.length > 0) {
  process.stdout.write(
    `# left out (${missing.join(', ')} not on the PATH): ${left.map((f) => path.basename(f)).join(', ')}\n`,
  );
}
const result = spawnSync(
  process.execPath,
  ['--test', '--test-concurrency=2', ...files.filter((file) => !left.includes(file))],
  { stdio: 'inherit' },
);
process.exitCode = result.status ?? 1;
