import { readFileSync } from 'node:fs';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { TorfleetError } from '../errors.js';
import { packagePath } from '../package-root.js';
import { parseTorTime } from './consensus-parser.js';
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

let compiled: ValidateFunction | undefined;

function detailsValidator(): ValidateFunction {
  if (!compiled) {
    const schema = JSON.parse(readFileSync(packagePath('schemas', 'onionoo-details.schema.json'), 'utf8')) as object;
    compiled = new Ajv2020({ allErrors: false, strict: true }).compile(schema);
  }
  return compiled;
}

/** Parses and checks an Onionoo details document. Unknown fields are ignored; missing optional ones tolerated. */
export function parseOnionooDetails(body: Buffer, origin: string): NodeSnapshot {
  const invalid = (what: string, cause?: unknown): TorfleetError =>
    new TorfleetError('NODE_SOURCE_INVALID', 'generic', `${origin}: ${what}; is this an Onionoo details document?`, {
      cause,
    });
  let document: unknown;
  try {
    document = JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw invalid('the body is not valid JSON (truncated?)', error);
  }
  const validate = detailsValidator();
  if (!validate(document)) {
    const first = validate.errors?.[0];
    throw invalid(`${first?.instancePath || '/'} ${first?.message ?? 'is invalid'}`);
  }
  const details = document as OnionooDetails;
  const published = parseTorTime(details.relays_published);
  if (!published) throw invalid(`unreadable relays_published "${details.relays_published}"`);
  return { relaysPublished: published, relays: details.relays.map(toRelay) };
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
