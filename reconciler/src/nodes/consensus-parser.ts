import { TorfleetError } from '../errors.js';
import type { ExitPolicySummary } from './relay.js';

/** One router status entry of a network-status consensus (ns or microdesc flavour). */
export interface ConsensusEntry {
  readonly nickname: string;
  readonly fingerprint: string;
  readonly address: string;
  readonly orPort: number;
  /** `[IPv6]:PORT` from `a` lines. */
  readonly extraOrAddresses: readonly string[];
  readonly flags: readonly string[];
  readonly policy: ExitPolicySummary | null;
}

export interface ConsensusDocument {
  readonly validAfter: Date;
  readonly entries: readonly ConsensusEntry[];
}

interface MutableEntry {
  nickname: string;
  fingerprint: string;
  address: string;
  orPort: number;
  extraOrAddresses: string[];
  flags: string[];
  policy: ExitPolicySummary | null;
}

/**
 * Parses a Tor network-status consensus (dir-spec §3.4.1). Reads the header's `valid-after` and
 * each entry's `r`, `a`, `s` and `p` lines; other lines are skipped. Signatures are not checked:
 * fetch the document from a directory authority or cache you trust.
 */
export function parseConsensus(text: string, origin: string): ConsensusDocument {
  const invalid = (line: number, what: string): TorfleetError =>
    new TorfleetError(
      'NODE_SOURCE_INVALID',
      'generic',
      `${origin}:${line}: ${what}; is this a Tor consensus document?`,
    );

  const lines = text.split('\n');
  if (!lines[0]?.startsWith('network-status-version 3')) {
    throw invalid(1, 'expected "network-status-version 3"');
  }
  let validAfter: Date | undefined;
  let isConsensus = false;
  const entries: MutableEntry[] = [];
  let current: MutableEntry | undefined;

  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const space = line.indexOf(' ');
    const keyword = space === -1 ? line : line.slice(0, space);
    switch (keyword) {
      case 'vote-status':
        isConsensus = line === 'vote-status consensus';
        break;
      case 'valid-after':
        validAfter = parseTorTime(line.slice(space + 1));
        if (!validAfter) throw invalid(i + 1, 'unreadable valid-after time');
        break;
      case 'r': {
        current = parseRouterLine(line);
        if (!current) throw invalid(i + 1, 'malformed "r" line');
        entries.push(current);
        break;
      }
      case 'a':
        current?.extraOrAddresses.push(line.slice(2));
        break;
      case 's':
        if (current) current.flags = line.slice(2).split(' ').filter(Boolean);
        break;
      case 'p':
        if (current) current.policy = parsePolicy(line.slice(2));
        break;
      case 'directory-footer':
        i = lines.length;
        break;
    }
  }
  if (!isConsensus) throw invalid(1, 'no "vote-status consensus" line');
  if (!validAfter) throw invalid(1, 'no valid-after line');
  return { validAfter, entries };
}

/**
 * ns flavour:       r nickname identity digest YYYY-MM-DD HH:MM:SS IP ORPort DirPort
 * microdesc flavour: r nickname identity        YYYY-MM-DD HH:MM:SS IP ORPort DirPort
 */
function parseRouterLine(line: string): MutableEntry | undefined {
  const parts = line.split(' ');
  if (parts.length !== 9 && parts.length !== 8) return undefined;
  const ipIndex = parts.length - 3;
  const fingerprint = base64ToHex(parts[2] ?? '');
  const address = parts[ipIndex] ?? '';
  const orPort = Number(parts[ipIndex + 1]);
  if (!fingerprint || !/^[0-9.]+$/.test(address) || !Number.isInteger(orPort)) return undefined;
  return { nickname: parts[1] ?? '', fingerprint, address, orPort, extraOrAddresses: [], flags: [], policy: null };
}

function base64ToHex(identity: string): string | undefined {
  const hex = Buffer.from(identity, 'base64').toString('hex').toUpperCase();
  return hex.length === 40 ? hex : undefined;
}

function parsePolicy(text: string): ExitPolicySummary | null {
  const [verb, ports] = text.split(' ');
  if (!ports) return null;
  const list = ports.split(',');
  if (verb === 'accept') return { accept: list };
  if (verb === 'reject') return { reject: list };
  return null;
}

/** `2022-11-19 10:00:00` (UTC) → Date. */
export function parseTorTime(text: string): Date | undefined {
  const match = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})$/.exec(text.trim());
  if (!match) return undefined;
  const date = new Date(`${match[1] ?? ''}T${match[2] ?? ''}Z`);
  // Date rolls impossible days over (2022-02-30 → 2022-03-02): only a date that prints back as written is real.
  if (Number.isNaN(date.getTime())) return undefined;
  return date.toISOString().slice(0, 19) === `${match[1] ?? ''}T${match[2] ?? ''}` ? date : undefined;
}
