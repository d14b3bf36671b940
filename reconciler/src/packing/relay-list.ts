/** A relay as the shared tor knows it, from its consensus (`GETINFO ns/all`) and microdescriptors. */
export interface Relay {
  /** 40 upper-case hex digits. */
  readonly fingerprint: string;
  readonly nickname: string;
  readonly address: string;
  readonly orPort: number;
  readonly flags: ReadonlySet<string>;
  /** The consensus weight (`w Bandwidth=`), at least 1. */
  readonly bandwidth: number;
  /** Fingerprints its microdescriptor's `family` line names (a family needs both sides to name each other). */
  readonly family: ReadonlySet<string>;
}

const R_LINE = /^r (\S{1,19}) ([A-Za-z0-9+/]{27}) \S+ \S+ \S+ (\d{1,3}(?:\.\d{1,3}){3}) (\d{1,5}) \d{1,5}$/;

/**
 * The relays of a `GETINFO ns/all` answer (router status entries: `r`, `s`, `w` lines; others ignored). Entries
 * whose `r` line does not parse are skipped: the peer may be sloppy, and a relay we cannot read is one we never use.
 */
export function parseNetworkStatus(lines: readonly string[]): Relay[] {
  const relays: Relay[] = [];
  let current: { fingerprint: string; nickname: string; address: string; orPort: number } | null = null;
  let flags = new Set<string>();
  let bandwidth = 1;
  const flush = (): void => {
    if (current) relays.push({ ...current, flags, bandwidth, family: new Set() });
    current = null;
    flags = new Set();
    bandwidth = 1;
  };
  for (const line of lines) {
    if (line.startsWith('r ')) {
      flush();
      const match = R_LINE.exec(line);
      const identity = match ? Buffer.from(match[2] ?? '', 'base64') : null;
      if (match && identity?.length === 20) {
        current = {
          nickname: match[1] ?? '',
          fingerprint: identity.toString('hex').toUpperCase(),
          address: match[3] ?? '',
          orPort: Number(match[4]),
        };
      }
    } else if (line.startsWith('s ') && current) {
      flags = new Set(line.slice(2).split(' ').filter(Boolean));
    } else if (line.startsWith('w ') && current) {
      const value = Number(/Bandwidth=(\d{1,12})/.exec(line)?.[1] ?? 1);
      bandwidth = Math.max(1, value);
    }
  }
  flush();
  return relays;
}

/** The fingerprints a microdescriptor's `family` line names (`$FP`, `$FP=nick`, `$FP~nick`; nicknames ignored). */
export function familyOf(microdescriptor: readonly string[]): Set<string> {
  const family = new Set<string>();
  for (const line of microdescriptor) {
    if (!line.startsWith('family ')) continue;
    for (const member of line.slice(7).split(' ')) {
      const fingerprint = /^\$([0-9A-Fa-f]{40})(?:[=~].*)?$/.exec(member)?.[1];
      if (fingerprint !== undefined) family.add(fingerprint.toUpperCase());
    }
  }
  return family;
}
