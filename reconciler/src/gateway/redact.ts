import type { Secret } from '../fleet/secret.js';

const HIDDEN = '[redacted]';

/**
 * The gateway's one redaction, used for every log line, error message and metric label it writes: user
 * information in a URL (`scheme://user:pass@host` → `scheme://[redacted]@host`), any `Basic`/`Bearer`
 * credential, and every secret of the fleet (token, upstream and corporate auth, and each half of a
 * `USER:PASSWORD`) wherever it shows.
 */
export class Redactor {
  readonly #needles: readonly string[];

  constructor(secrets: readonly (Secret | null)[]) {
    const needles = new Set<string>();
    for (const secret of secrets) {
      if (!secret) continue;
      const value = secret.reveal();
      needles.add(value);
      const colon = value.indexOf(':');
      if (colon > 0) {
        needles.add(value.slice(0, colon));
        needles.add(value.slice(colon + 1));
        needles.add(Buffer.from(value).toString('base64'));
      }
    }
    // Longest first, so a secret that contains another is hidden whole; tiny halves (a one-letter user) would
    // blank out ordinary text and are hidden only as part of the whole value.
    this.#needles = [...needles].filter((needle) => needle.length >= 3).sort((a, b) => b.length - a.length);
  }

  /** `text` with every secret, URL user information and Authorization credential replaced. */
  redact(text: string): string {
    let out = redactUrl(text).replace(/\b(Basic|Bearer)\s+[A-Za-z0-9+/=._~-]+/gi, `$1 ${HIDDEN}`);
    for (const needle of this.#needles) out = out.split(needle).join(HIDDEN);
    return out;
  }
}

/** URL user information hidden wherever a `scheme://user@` shows in `text`. */
export function redactUrl(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/gi, `$1${HIDDEN}@`);
}
