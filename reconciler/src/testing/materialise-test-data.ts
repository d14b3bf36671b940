import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { brotliDecompressSync } from 'node:zlib';

/** The checksum list beside the data: `<sha256 of the uncompressed file>  <file name>` a line (`sha256sum -c` form). */
export const CHECKSUMS_FILE = 'SHA256SUMS';
/** Each file listed in SHA256SUMS is stored as `<name>.br` (brotli: a third smaller than gzip -9 on these files). */
export const COMPRESSED_SUFFIX = '.br';

/**
 * Decompresses every file listed in `sourceDir`/SHA256SUMS into `cacheDir` (once) and returns the uncompressed
 * paths by name. Invariant: a file at a returned path is always complete and has its listed sha256, even while
 * other processes materialise the same directory: a cached copy is used only when its checksum matches, and a new
 * copy is written to a temp file in `cacheDir` and renamed into place (rename is atomic within a file system).
 */
export function materialiseTestData(sourceDir: string, cacheDir: string): ReadonlyMap<string, string> {
  const files = new Map<string, string>();
  for (const { name, sha256 } of readChecksums(sourceDir)) {
    const target = path.join(cacheDir, name);
    if (!existsSync(target) || sha256Of(readFileSync(target)) !== sha256) {
      writeAtomically(target, decompressVerified(sourceDir, name, sha256));
    }
    files.set(name, target);
  }
  return files;
}

export function readChecksums(sourceDir: string): { name: string; sha256: string }[] {
  const file = path.join(sourceDir, CHECKSUMS_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(`test data checksums ${file} cannot be read (${String(error)}); restore it with git checkout`, {
      cause: error,
    });
  }
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, index) => {
      const match = /^([0-9a-f]{64}) [ *]([^/\s]+)$/.exec(line);
      if (!match?.[1] || !match[2]) {
        throw new Error(
          `${file} line ${index + 1} is not "<sha256>  <file name>": ${JSON.stringify(line)}; fix that line`,
        );
      }
      return { sha256: match[1], name: match[2] };
    });
}

function decompressVerified(sourceDir: string, name: string, sha256: string): Buffer {
  const compressed = path.join(sourceDir, `${name}${COMPRESSED_SUFFIX}`);
  let bytes: Buffer;
  try {
    bytes = brotliDecompressSync(readFileSync(compressed));
  } catch (error) {
    throw new Error(
      `test data ${compressed} cannot be read as brotli (${String(error)}); restore it with git checkout`,
      { cause: error },
    );
  }
  const actual = sha256Of(bytes);
  if (actual !== sha256) {
    throw new Error(
      `test data ${compressed} decompresses to sha256 ${actual}, but ${CHECKSUMS_FILE} lists ${sha256}; ` +
        `restore the file with git checkout, or, when replacing the data on purpose, update ${CHECKSUMS_FILE} and SOURCES.md`,
    );
  }
  return bytes;
}

function writeAtomically(target: string, bytes: Buffer): void {
  mkdirSync(path.dirname(target), { recursive: true });
  const temp = `${target}.${process.pid}.${randomUUID()}.tmp`;
  try {
    writeFileSync(temp, bytes, { flag: 'wx', mode: 0o644 });
    renameSync(temp, target);
  } finally {
    rmSync(temp, { force: true });
  }
}

export function sha256Of(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}
