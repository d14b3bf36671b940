import { closeSync, constants, fstatSync, openSync, readSync, realpathSync, type Stats } from 'node:fs';
import { open, realpath } from 'node:fs/promises';
import path from 'node:path';
import { fileKind, systemFileKind } from './file-kind.js';
import { isSystemPath } from './system-paths.js';

export type FileRefusal = 'unreadable' | 'not-regular' | 'system-path' | 'too-large';

/** An input file torfleet will not read; `message` says why and what to give instead, without the path. */
export class FileReadError extends Error {
  constructor(
    readonly reason: FileRefusal,
    /** What is wrong, said of the file: "is a device, not a regular file (/dev/zero)", "does not exist". */
    readonly predicate: string,
    options?: { cause?: unknown },
  ) {
    super(`it ${predicate}`, options);
    this.name = 'FileReadError';
  }

  /** The refusal said of `subject`: `about('the GeoIP file')` → "the GeoIP file is a device, not a regular file (…)". */
  about(subject: string): string {
    return `${subject} ${this.predicate}`;
  }
}

/** Non-blocking: opening a FIFO must not wait for a writer; no controlling terminal from a tty. */
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY;

/**
 * Reads an input file whole, at most `maxBytes`, refusing up front what is not a plain file: a FIFO (whose open
 * would wait for a writer forever), a device (/dev/zero never ends), a directory, a socket, and anything under
 * /proc, /sys or /dev (their files claim size 0 and yield any amount). The file is opened non-blocking, checked
 * with fstat on the open descriptor (no race with a rename), and read no further than `maxBytes + 1` bytes
 * even if it grows meanwhile.
 */
export async function readRegularFile(file: string, maxBytes: number): Promise<Buffer> {
  refuseSystemPath(path.resolve(file));
  const real = await realpath(file).catch((error: unknown) => {
    throw unreadable(error);
  });
  refuseSystemPath(real);
  const handle = await open(real, OPEN_FLAGS).catch((error: unknown) => {
    throw unreadable(error);
  });
  try {
    const buffer = bufferFor(await handle.stat(), maxBytes);
    let filled = 0;
    while (filled < buffer.length) {
      const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    if (filled > maxBytes) throw tooLarge(maxBytes); // it grew past the limit while being read
    return buffer.subarray(0, filled);
  } catch (error) {
    throw asReadError(error);
  } finally {
    await handle.close();
  }
}

/** A regular file opened by `withRegularFileSync`: its fstat, and its content read on demand (bounded). */
export interface OpenedRegularFile {
  readonly stats: Stats;
  read(): Buffer;
}

/**
 * The synchronous twin of `readRegularFile`, with the same checks and messages, for callers that must stay
 * sync (fleet validation). `use` gets the opened file's stats first, so it can skip reading a file it knows.
 */
export function withRegularFileSync<T>(file: string, maxBytes: number, use: (opened: OpenedRegularFile) => T): T {
  refuseSystemPath(path.resolve(file));
  let fd: number;
  try {
    const real = realpathSync(file);
    refuseSystemPath(real);
    fd = openSync(real, OPEN_FLAGS);
  } catch (error) {
    throw error instanceof FileReadError ? error : unreadable(error);
  }
  try {
    let stats: Stats;
    try {
      stats = fstatSync(fd);
      bufferFor(stats, maxBytes);
    } catch (error) {
      throw asReadError(error);
    }
    return use({ stats, read: () => readBoundedSync(fd, stats, maxBytes) });
  } finally {
    closeSync(fd);
  }
}

/** `withRegularFileSync` reading the whole file. */
export function readRegularFileSync(file: string, maxBytes: number): Buffer {
  return withRegularFileSync(file, maxBytes, (opened) => opened.read());
}

function readBoundedSync(fd: number, stats: Stats, maxBytes: number): Buffer {
  try {
    const buffer = bufferFor(stats, maxBytes);
    let filled = 0;
    while (filled < buffer.length) {
      const bytesRead = readSync(fd, buffer, filled, buffer.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    if (filled > maxBytes) throw tooLarge(maxBytes);
    return buffer.subarray(0, filled);
  } catch (error) {
    throw asReadError(error);
  }
}

/**
 * Refuses what fstat shows is not a regular file or is over the limit; else a buffer one byte larger than the
 * file (at most `maxBytes + 1`): a read that fills it saw the file grow past the limit.
 */
function bufferFor(stats: Stats, maxBytes: number): Buffer {
  if (!stats.isFile()) throw new FileReadError('not-regular', `is ${fileKind(stats)}, not a regular file`);
  if (stats.size > maxBytes) throw tooLarge(maxBytes);
  return Buffer.alloc(Math.min(stats.size, maxBytes) + 1);
}

function refuseSystemPath(resolved: string): void {
  if (!isSystemPath(resolved)) return;
  throw new FileReadError('system-path', `is ${systemFileKind(resolved)}, not a regular file (${resolved})`);
}

function tooLarge(maxBytes: number): FileReadError {
  return new FileReadError('too-large', `is larger than ${maxBytes} bytes, the most torfleet reads from it`);
}

function asReadError(error: unknown): FileReadError {
  if (error instanceof FileReadError) return error;
  return new FileReadError('unreadable', `could not be read: ${(error as Error).message}`, { cause: error });
}

function unreadable(error: unknown): FileReadError {
  const code = (error as NodeJS.ErrnoException).code;
  const predicate =
    code === 'ENOENT'
      ? 'does not exist'
      : code === 'EACCES' || code === 'EPERM'
        ? 'cannot be read: permission denied'
        : code === 'ENOTDIR'
          ? 'cannot be reached: a part of the path is not a directory'
          : code === 'ELOOP'
            ? 'cannot be reached: too many symbolic links'
            : `cannot be read: ${(error as Error).message}`;
  return new FileReadError('unreadable', predicate, { cause: error });
}
