import { FileReadError, withRegularFileSync, type OpenedRegularFile } from '../fs/read-regular-file.js';
import { TorfleetError } from '../errors.js';
import { MAX_GEOIP_BYTES, parseGeoIp } from '../nodes/geoip.js';

/**
 * `required`: the file must be there (the reconciler, before it applies anything); `if-readable`:
 * check it when this machine can read it (`validate`, which may run far from the reconciler's host).
 */
export type GeoIpFileCheck = 'required' | 'if-readable';

export type GeoIpFileFinding = { kind: 'ok' } | { kind: 'error' | 'warning'; message: string };

/**
 * Whether `file` is something tor may be given as its GeoIPFile: a regular file (not a device, a FIFO
 * or a directory: `/dev/zero` would make tor log without end), at most 32 MiB, that parses as a Tor
 * IPv4 GeoIP file with at least one range. Opened and checked by the one size-capped reader of `fs/`.
 * Messages never quote the file's content.
 */
export function checkGeoIpFile(file: string, mode: GeoIpFileCheck): GeoIpFileFinding {
  try {
    return withRegularFileSync(file, MAX_GEOIP_BYTES, (opened) => parsedFinding(file, opened));
  } catch (error) {
    if (!(error instanceof FileReadError)) throw error;
    return refusal(error, mode);
  }
}

function refusal(error: FileReadError, mode: GeoIpFileCheck): GeoIpFileFinding {
  if (error.reason === 'unreadable') {
    const code = (error.cause as NodeJS.ErrnoException | undefined)?.code ?? 'error';
    if (mode === 'if-readable') {
      return {
        kind: 'warning',
        message: `cannot read the GeoIP file here (${code}), so it was not checked; the reconciler checks it before it starts any proxy`,
      };
    }
    return {
      kind: 'error',
      message: `cannot read the GeoIP file (${code}); it must be a readable file on the reconciler's host: fix the path or the file's permissions`,
    };
  }
  if (error.reason === 'too-large') {
    return {
      kind: 'error',
      message: `the GeoIP file is larger than ${MAX_GEOIP_BYTES} bytes (32 MiB); a Tor geoip file is about 4 MB`,
    };
  }
  return { kind: 'error', message: `${error.about('the GeoIP file')}: give a Tor geoip file` };
}

/**
 * Parsing a real GeoIP file takes about half a second, and every reconcile pass validates the fleet:
 * the finding is kept per path for as long as the file's identity, size and times are unchanged.
 */
const findings = new Map<string, { key: string; finding: GeoIpFileFinding }>();
const MAX_REMEMBERED = 8;

function parsedFinding(file: string, opened: OpenedRegularFile): GeoIpFileFinding {
  const { stats } = opened;
  const key = [stats.dev, stats.ino, stats.size, stats.mtimeMs, stats.ctimeMs].join(':');
  const known = findings.get(file);
  if (known?.key === key) return known.finding;
  const finding = parse(file, opened.read().toString('utf8'));
  if (findings.size >= MAX_REMEMBERED) findings.clear();
  findings.set(file, { key, finding });
  return finding;
}

function parse(file: string, text: string): GeoIpFileFinding {
  try {
    if (parseGeoIp(text, file).ranges === 0) {
      return { kind: 'error', message: 'the GeoIP file holds no "startnum,endnum,CC" ranges: give a Tor geoip file' };
    }
    return { kind: 'ok' };
  } catch (error) {
    if (!(error instanceof TorfleetError)) throw error;
    // parseGeoIp names the line (`FILE:LINE: expected ...`) and never quotes it.
    return { kind: 'error', message: `this is not a Tor GeoIP file: ${error.message}` };
  }
}
