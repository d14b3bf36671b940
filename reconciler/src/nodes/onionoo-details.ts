import { readFileSync } from 'node:fs';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { TorfleetError } from '../errors.js';
import { packagePath } from '../package-root.js';
import { parseTorTime } from './consensus-parser.js';
import { JSON_BYTES, JsonScanner, TruncatedJsonError, ValueSkipper } from './json-scanner.js';
import type { ExitPolicySummary, NodeSnapshot, Relay } from './relay.js';

/** The Onionoo details fields torfleet asks for (`fields=`): everything a Relay holds, nothing more. */
export const ONIONOO_FIELDS = [
  'nickname',
  'fingerprint',
  'or_addresses',
  'exit_addresses',
  'country',
  'as',
  'flags',
  'running',
  'exit_policy_summary',
  'first_seen',
  'last_seen',
] as const;

interface OnionooRelay {
  nickname?: string;
  fingerprint: string;
  or_addresses?: string[];
  exit_addresses?: string[];
  country?: string;
  as?: string;
  as_number?: string;
  flags?: string[];
  running?: boolean;
  exit_policy_summary?: { accept?: string[]; reject?: string[] };
  first_seen?: string;
  last_seen?: string;
}

interface OnionooDetails {
  relays_published: string;
  relays: OnionooRelay[];
}

interface DetailsValidators {
  readonly document: ValidateFunction;
  readonly relay: ValidateFunction;
}

let compiled: DetailsValidators | undefined;

function validators(): DetailsValidators {
  if (!compiled) {
    const schema = JSON.parse(readFileSync(packagePath('schemas', 'onionoo-details.schema.json'), 'utf8')) as {
      $id: string;
    };
    const ajv = new Ajv2020({ allErrors: false, strict: true });
    const document = ajv.compile(schema);
    const relay = ajv.getSchema(`${schema.$id}#/$defs/relay`);
    if (!relay) throw new Error('onionoo-details.schema.json has no $defs/relay');
    compiled = { document, relay };
  }
  return compiled;
}

type Phase = 'start' | 'member' | 'skip' | 'first-relay' | 'relay' | 'after-member' | 'end';

/** The top-level members kept (small strings); every other one but `relays` is skipped unread. */
const KEPT_MEMBERS: ReadonlySet<string> = new Set(['version', 'relays_published']);

/** A member name with a kept value must end within this many bytes (its value is a short string). */
const MAX_MEMBER_BYTES = 64 * 1024;

/** A relay that does not end within this many bytes is refused (one is a few KiB with every field). */
export const MAX_RELAY_BYTES = 1024 * 1024;

/** More relays than this is no Tor network (it has had under 10,000 for years): refused, not held. */
export const MAX_RELAYS = 100_000;

/**
 * Parses an Onionoo details document as its bytes arrive. Each element of `relays` is parsed, checked and
 * reduced to a Relay on its own, so memory grows with the relays kept, never with the document's size.
 * Of the other top-level members only `version` and `relays_published` are kept; the rest (bridges, anything
 * unknown) are skipped byte by byte without being built, whatever their size. Unknown fields are ignored;
 * missing optional ones tolerated; a member that appears twice is refused.
 */
export class OnionooDetailsParser {
  private pending: Buffer = Buffer.alloc(0);
  private phase: Phase = 'start';
  private readonly top: Record<string, unknown> = {};
  private readonly seen = new Set<string>();
  private skipper = new ValueSkipper();
  private readonly relays: Relay[] = [];
  private readonly check = validators();

  constructor(private readonly origin: string) {}

  push(chunk: Buffer): void {
    const buffer = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    let consumed: number;
    try {
      consumed = this.drain(new JsonScanner(buffer));
    } catch (error) {
      throw this.translate(error);
    }
    // What is left is one unit that goes on in the next chunk: bound it before holding more of it.
    this.checkUnitSize(buffer.length - consumed);
    // Copy the unparsed tail so the (large) chunk it came from can be collected.
    this.pending = Buffer.from(buffer.subarray(consumed));
  }

  finish(): NodeSnapshot {
    if (this.phase !== 'end') {
      throw this.invalid('the body is not valid JSON (truncated?): the document ends early');
    }
    if (!this.check.document(this.top)) {
      const first = this.check.document.errors?.[0];
      throw this.invalid(`${first?.instancePath || '/'} ${first?.message ?? 'is invalid'}`);
    }
    const details = this.top as unknown as OnionooDetails;
    const published = parseTorTime(details.relays_published);
    if (!published) throw this.invalid(`unreadable relays_published "${details.relays_published}"`);
    return { relaysPublished: published, relays: this.relays };
  }

  /** Consumes whole units (a member, or one relay with its separator); returns the offset after the last one. */
  private drain(scanner: JsonScanner): number {
    const { OPEN_BRACE, CLOSE_BRACE, OPEN_BRACKET, CLOSE_BRACKET, COMMA, COLON } = JSON_BYTES;
    let done = 0;
    for (;;) {
      let i = scanner.skipWhitespace(done);
      try {
        switch (this.phase) {
          case 'start':
            i = scanner.skipWhitespace(scanner.expect(i, OPEN_BRACE, '{'));
            if (scanner.byteAt(i) === CLOSE_BRACE) {
              i++;
              this.phase = 'end';
            } else {
              this.phase = 'member';
            }
            break;
          case 'member': {
            const keyEnd = scanner.endOfValue(i);
            const key = scanner.parse(i, keyEnd);
            if (typeof key !== 'string') throw new SyntaxError(`expected a member name at byte ${i}`);
            i = scanner.skipWhitespace(scanner.expect(scanner.skipWhitespace(keyEnd), COLON, ':'));
            if (this.seen.has(key)) throw new SyntaxError(`the member "${key.slice(0, 64)}" appears twice`);
            if (key === 'relays') {
              if (scanner.byteAt(i) !== OPEN_BRACKET) throw this.invalid('/relays must be array');
              this.top.relays = [];
              i++;
              this.phase = 'first-relay';
            } else if (KEPT_MEMBERS.has(key)) {
              const end = scanner.endOfValue(i);
              this.checkUnitSize(end - i);
              this.top[key] = scanner.parse(i, end);
              i = end;
              this.phase = 'after-member';
            } else {
              this.skipper = new ValueSkipper();
              this.phase = 'skip';
            }
            this.seen.add(key); // only now: a unit cut short by the chunk's end is read again from its start
            break;
          }
          case 'skip': {
            const end = this.skipper.feed(scanner.buffer, i);
            if (end === undefined) return scanner.length; // the value goes on in the next chunk; nothing kept
            i = end;
            this.phase = 'after-member';
            break;
          }
          case 'first-relay':
            if (scanner.byteAt(i) === CLOSE_BRACKET) {
              i++;
              this.phase = 'after-member';
            } else {
              this.phase = 'relay';
            }
            break;
          case 'relay': {
            const end = scanner.endOfValue(i);
            this.checkUnitSize(end - i);
            const separatorAt = scanner.skipWhitespace(end);
            const separator = scanner.byteAt(separatorAt);
            if (separator !== COMMA && separator !== CLOSE_BRACKET) {
              throw new SyntaxError(`expected , or ] at byte ${separatorAt}`);
            }
            this.addRelay(scanner.parse(i, end));
            i = separatorAt + 1;
            if (separator === CLOSE_BRACKET) this.phase = 'after-member';
            break;
          }
          case 'after-member': {
            const separator = scanner.byteAt(i++);
            if (separator === CLOSE_BRACE) this.phase = 'end';
            else if (separator === COMMA) this.phase = 'member';
            else throw new SyntaxError(`expected , or } at byte ${i - 1}`);
            break;
          }
          case 'end':
            if (i < scanner.length) throw new SyntaxError(`unexpected data after the document at byte ${i}`);
            return i;
        }
      } catch (error) {
        if (error instanceof TruncatedJsonError) return done; // the unit continues in the next chunk
        throw error;
      }
      done = i;
    }
  }

  /** A relay, or a member name with a kept value, of `size` bytes: refused past its limit. */
  private checkUnitSize(size: number): void {
    const limit = this.phase === 'relay' ? MAX_RELAY_BYTES : MAX_MEMBER_BYTES;
    if (size <= limit) return;
    const what = this.phase === 'relay' ? `relay ${this.relays.length}` : 'a top-level member name or value';
    throw this.invalid(`${what} is larger than ${limit} bytes`);
  }

  private addRelay(raw: unknown): void {
    if (this.relays.length >= MAX_RELAYS) throw this.invalid(`more than ${MAX_RELAYS} relays`);
    if (!this.check.relay(raw)) {
      const first = this.check.relay.errors?.[0];
      throw this.invalid(`/relays/${this.relays.length}${first?.instancePath ?? ''} ${first?.message ?? 'is invalid'}`);
    }
    this.relays.push(toRelay(raw as OnionooRelay));
  }

  private translate(error: unknown): unknown {
    if (error instanceof TorfleetError) return error;
    if (error instanceof SyntaxError)
      return this.invalid(`the body is not JSON of the expected shape: ${error.message}`, error);
    return error;
  }

  private invalid(what: string, cause?: unknown): TorfleetError {
    return new TorfleetError(
      'NODE_SOURCE_INVALID',
      'generic',
      `${this.origin}: ${what}; is this an Onionoo details document?`,
      {
        cause,
      },
    );
  }
}

/** Parses a whole details document held in memory. */
export function parseOnionooDetails(body: Buffer, origin: string): NodeSnapshot {
  const parser = new OnionooDetailsParser(origin);
  parser.push(body);
  return parser.finish();
}

function toRelay(relay: OnionooRelay): Relay {
  const country = relay.country?.toUpperCase();
  return {
    fingerprint: relay.fingerprint.toUpperCase(),
    nickname: relay.nickname ?? 'Unnamed',
    orAddresses: relay.or_addresses ?? [],
    exitAddresses: relay.exit_addresses ?? [],
    country: country && country !== '??' ? country : null,
    asNumber: relay.as ?? relay.as_number ?? null,
    flags: relay.flags ?? [],
    running: relay.running ?? true,
    exitPolicySummary: toPolicy(relay.exit_policy_summary),
    firstSeen: isoTime(relay.first_seen),
    lastSeen: isoTime(relay.last_seen),
  };
}

function toPolicy(summary: OnionooRelay['exit_policy_summary']): ExitPolicySummary | null {
  if (summary?.accept) return { accept: summary.accept };
  if (summary?.reject) return { reject: summary.reject };
  return null;
}

function isoTime(text: string | undefined): string | null {
  return text === undefined ? null : (parseTorTime(text)?.toISOString() ?? null);
}
