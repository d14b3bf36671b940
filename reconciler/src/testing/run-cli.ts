import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { packagePath } from '../package-root.js';

const run = promisify(execFile);

/** The built `torfleet` binary, as package.json's `bin` names it. */
export const TORFLEET_BIN = packagePath('dist', 'reconciler', 'src', 'cli', 'main.js');

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The process environment without any TORFLEET_* setting of the caller's: a test sets every one it means. */
export function cleanEnv(env: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  return { ...Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('TORFLEET_'))), ...env };
}

/** Runs `torfleet ARGS` as a user would and returns its exit code and output, whatever the code. */
export async function runTorfleet(
  args: readonly string[],
  env: Readonly<Record<string, string>> = {},
): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(process.execPath, [TORFLEET_BIN, ...args], { env: cleanEnv(env) });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}
