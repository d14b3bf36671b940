import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { fileKind } from '../fs/file-kind.js';
import path from 'node:path';

/** The notice log every proxy's tor writes in its data directory (templates/torrc.tmpl `Log notice file`). */
export const TOR_LOG_FILE = 'notice.log';

export interface LogTailOptions {
  /** At most this many lines, the last ones. */
  readonly lines?: number;
  /** Read at most this many bytes from the end of the file. */
  readonly bytes?: number;
  /** Each line is cut to this many characters. */
  readonly lineLength?: number;
}

/**
 * The last lines of a proxy's tor log, bounded and safe to show: control characters escaped (`\x1b`), long
 * lines cut. An absent log (tor not started yet) is no lines, not an error. The data directory is the
 * proxy's tor's to write: the log is opened non-blocking (a FIFO there must not hang the reader) and read
 * only when it is a regular file.
 */
export async function torLogTail(dataDirectory: string, options: LogTailOptions = {}): Promise<string[]> {
  const { lines = 20, bytes = 16_384, lineLength = 300 } = options;
  const file = path.join(dataDirectory, TOR_LOG_FILE);
  const flags = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY;
  const handle = await open(file, flags).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  });
  if (!handle) return [];
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw new Error(`${file} is ${fileKind(stats)}, not a regular file`);
    const { size } = stats;
    const start = Math.max(0, size - bytes);
    const buffer = Buffer.alloc(size - start);
    await handle.read(buffer, 0, buffer.length, start);
    const all = buffer.toString('utf8').split('\n');
    if (start > 0) all.shift(); // a partial first line
    return all
      .filter((line) => line.trim() !== '')
      .slice(-lines)
      .map((line) => cut(escapeControl(line), lineLength));
  } finally {
    await handle.close();
  }
}

/** Every C0/C1 control character (and DEL) as `\xNN`, so a log line cannot forge lines or terminal escapes. */
export function escapeControl(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

function cut(line: string, length: number): string {
  return line.length > length ? `${line.slice(0, length - 1)}…` : line;
}
