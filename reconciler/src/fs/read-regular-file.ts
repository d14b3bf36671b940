import { constants, type Stats } from 'node:fs';
import { open, realpath } from 'node:fs/promises';
import path from 'node:path';
import { isSystemPath } from './system-paths.js';

export type FileRefusal = 'unreadable' | 'not-regular' | 'system-path' | 'too-large';

/** An input file torfleet will not read; `message` says why and what to give instead, without the path. */
export class FileReadError extends Error {
  constructor(
    readonly reason: FileRefusal,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'FileReadError';
  }
}

/**
 * Reads an input file whole, at most `maxBytes`, refusing up front what is not a plain file: a FIFO (whose open
 * would wait for a writer forever), a device (/dev/zero never ends), a directory, a socket, and anything under
 * /proc, /sys or /dev (their files claim size 0 and yield any amount). The file is opened non-blocking, checked
 * with fstat on the open descriptor (no race with a rename), and read no further than `maxBytes + 1` bytes
 * even if it grows meanwhile.
 */
export async function readRegularFile(file: string, maxBytes: number): Promise<Buffer> {
  if (isSystemPath(path.resolve(file))) throw systemPath(path.resolve(file));
  const real = await realpath(file).catch((error: unknown) => {
    throw new FileReadError('unreadable', describeOpenError(error), { cause: error });
  });
  if (isSystemPath(real)) throw systemPath(real);
  const handle = await open(real, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY).catch(
    (error: unknown) => {
      throw new FileReadError('unreadable', describeOpenError(error), { cause: error });
    },
  );
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw new FileReadError('not-regular', `it is ${kindOf(stats)}, not a regular file`);
    if (stats.size > maxBytes) throw tooLarge(maxBytes);
    const buffer = Buffer.alloc(Math.min(stats.size, maxBytes) + 1);
    let filled = 0;
    for (;;) {
      if (filled === buffer.length) {
        if (filled > maxBytes) throw tooLarge(maxBytes); // it grew past the limit while being read
        break;
      }
      const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return buffer.subarray(0, filled);
  } catch (error) {
    if (error instanceof FileReadError) throw error;
    throw new FileReadError('unreadable', `reading it failed: ${(error as Error).message}`, { cause: error });
  } finally {
    await handle.close();
  }
}

function systemPath(real: string): FileReadError {
  return new FileReadError('system-path', `it is a kernel or device file (${real}), not a file with content`);
}

function tooLarge(maxBytes: number): FileReadError {
  return new FileReadError('too-large', `it is larger than ${maxBytes} bytes, the most torfleet reads from it`);
}

function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSocket()) return 'a socket';
  return 'not a plain file';
}

function describeOpenError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'it does not exist';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ENOTDIR') return 'a part of the path is not a directory';
  if (code === 'ELOOP') return 'too many symbolic links';
  return (error as Error).message;
}
