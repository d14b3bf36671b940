import type { Stats } from 'node:fs';

/**
 * What a file that is not a regular one is, in the words every "not a regular file" message uses:
 * `it is ${fileKind(stats)}, not a regular file`.
 */
export function fileKind(stats: Stats): string {
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device';
  if (stats.isSocket()) return 'a socket';
  if (stats.isFile()) return 'a regular file';
  return 'a special file';
}

/** The same words for a path under /dev (a device) or /proc and /sys (a kernel file), judged by the path alone. */
export function systemFileKind(resolved: string): string {
  return resolved === '/dev' || resolved.startsWith('/dev/') ? 'a device' : 'a kernel file';
}
