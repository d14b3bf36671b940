import { fileURLToPath } from 'node:url';
import path from 'node:path';

/**
 * The directory holding package.json, schemas/ and templates/. This file compiles to
 * dist/reconciler/src/package-root.js, three levels below the root.
 */
export const packageRoot: string = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export function packagePath(...segments: string[]): string {
  return path.join(packageRoot, ...segments);
}
