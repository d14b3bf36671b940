import { timingSafeEqual } from 'node:crypto';
import { quoteText } from '../fleet/display-text.js';
import { tokenDigest } from '../token-digest.js';

/**
 * The broker's clients, from `TORFLEET_BROKER_TOKENS_FILE`: one `CLIENT_NAME SHA256_HEX_OF_TOKEN` line each (tokens
 * are never stored in clear), `#` comments and blank lines allowed. Make a line with
 * `printf '%s' "$TOKEN" | sha256sum` and put the client's name before the digest.
 */
export interface ClientTokens {
  /** The clients' names, in file order. */
  readonly names: readonly string[];
  /** The client whose token `presented` is, or null; compares against every entry, in constant time each. */
  identify(presented: string | null | undefined): string | null;
}

export type TokensParse =
  { readonly ok: true; readonly tokens: ClientTokens } | { readonly ok: false; readonly errors: readonly string[] };

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const HEX_DIGEST = /^[0-9a-fA-F]{64}$/;
/** More clients than this in one file is a mistake (a token list pasted in), not a deployment. */
export const MAX_CLIENTS = 10_000;

/** Parses the tokens file's text; every problem is reported as `ORIGIN:LINE: what, and how to fix it`. */
export function parseClientTokens(origin: string, text: string): TokensParse {
  const errors: string[] = [];
  const entries: { name: string; digest: Buffer }[] = [];
  const lineOf = new Map<string, number>();
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') return;
    const at = `${origin}:${index + 1}`;
    const fields = line.split(/\s+/);
    const [name = '', digest = ''] = fields;
    if (fields.length !== 2) {
      errors.push(`${at}: expected "CLIENT_NAME SHA256_HEX_OF_TOKEN", found ${fields.length} field(s)`);
      return;
    }
    if (!NAME.test(name)) {
      errors.push(`${at}: client name ${quoteText(name, 40)}: use letters, digits, ".", "_" and "-" (at most 64)`);
      return;
    }
    if (!HEX_DIGEST.test(digest)) {
      errors.push(
        `${at}: client "${name}": the second field must be the token's SHA-256 in hex (64 characters), not the ` +
          `token itself: printf '%s' "$TOKEN" | sha256sum`,
      );
      return;
    }
    const first = lineOf.get(name);
    if (first !== undefined) {
      errors.push(`${at}: client "${name}" is already on line ${first}: give each client one name and one token`);
      return;
    }
    lineOf.set(name, index + 1);
    entries.push({ name, digest: Buffer.from(digest, 'hex') });
  });
  if (entries.length > MAX_CLIENTS) errors.push(`${origin}: ${entries.length} clients; at most ${MAX_CLIENTS}`);
  if (errors.length === 0 && entries.length === 0) {
    errors.push(`${origin}: no client: add a line "CLIENT_NAME SHA256_HEX_OF_TOKEN"`);
  }
  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    tokens: {
      names: entries.map((entry) => entry.name),
      identify(presented) {
        if (presented === null || presented === undefined || presented === '') return null;
        const digest = tokenDigest(presented);
        let found: string | null = null;
        // No early exit: the time taken does not tell which entry (or whether any) matched.
        for (const entry of entries) if (timingSafeEqual(digest, entry.digest) && found === null) found = entry.name;
        return found;
      },
    },
  };
}
