import path from 'node:path';

/** Kernel and device file systems: their files are not data torfleet should read or write. */
const SYSTEM_ROOTS = ['/proc', '/sys', '/dev'] as const;

/** Whether an absolute, resolved path is one of SYSTEM_ROOTS or below it. */
export function isSystemPath(absolute: string): boolean {
  const normal = path.resolve(absolute);
  return SYSTEM_ROOTS.some((root) => normal === root || normal.startsWith(`${root}/`));
}
