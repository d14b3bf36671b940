import { rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { readRegularFile } from '../fs/read-regular-file.js';

/** Where the controller keeps the shared tor's guards across its own restarts: beside tor's state. */
export function guardStateFile(dataDirectory: string): string {
  return path.join(dataDirectory, 'torfleet-guards.json');
}

const MAX_BYTES = 4096;

/**
 * The guards saved earlier, or [] when there are none or the file is not what we write (the data directory is
 * the tor's to write, so its content is a hint to validate, not trusted: at most 4 KiB, only fingerprints).
 */
export async function readGuards(file: string): Promise<string[]> {
  try {
    const parsed = JSON.parse((await readRegularFile(file, MAX_BYTES)).toString('utf8')) as unknown;
    const guards = (parsed as { guards?: unknown } | null)?.guards;
    if (!Array.isArray(guards)) return [];
    return guards.filter((guard): guard is string => typeof guard === 'string' && /^[0-9A-F]{40}$/.test(guard));
  } catch {
    return [];
  }
}

/** Replaces the file whole (write beside it, then rename). */
export async function writeGuards(file: string, guards: readonly string[]): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify({ version: 1, guards })}\n`, { mode: 0o600 });
  await rename(temporary, file);
}
