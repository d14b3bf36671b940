import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import path from 'node:path';

/** Whether `binary` can be run: a path as given, a bare name looked up on PATH as spawn does. */
export async function isExecutable(binary: string, searchPath = process.env.PATH ?? ''): Promise<boolean> {
  const candidates = binary.includes('/')
    ? [binary]
    : searchPath
        .split(path.delimiter)
        .filter((dir) => dir.length > 0)
        .map((dir) => path.join(dir, binary));
  for (const candidate of candidates) {
    try {
      await access(candidate, constants.X_OK);
      return true;
    } catch {
      // not this one
    }
  }
  return false;
}
