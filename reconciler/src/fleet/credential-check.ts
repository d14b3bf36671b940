import type { FleetIssue } from './fleet-issue.js';
import type { SemanticContext } from './semantic-checks.js';
import type { PathSegment } from './yaml-document.js';

/**
 * `USER:PASSWORD` for a proxy's Basic or SOCKS5 authentication: printable ASCII, a non-empty USER without
 * `:`, a PASSWORD that may be empty. Limits are per part: RFC 1929 (SOCKS5) holds each to 255 bytes.
 */
const USER_PASSWORD = /^[\x21-\x39\x3B-\x7E]{1,255}:[\x20-\x7E]{0,255}$/;

/** The gateway token: a proxy password clients type or paste, long enough not to be guessed. */
const TOKEN = /^[\x21-\x7E]{16,255}$/;

export type CredentialKind = 'user-password' | 'token';

/**
 * The one check of a gateway credential (`token`, `upstreams[].auth`, `corporate.auth`): it must be exactly
 * one `${NAME}` reference (a credential is never committed to git), and its substituted value must have the
 * credential's form. No message ever shows the value: a literal is reported by location only, a substituted
 * value as `[from ${NAME}]`.
 */
export function credentialIssue(
  path: readonly PathSegment[],
  value: unknown,
  kind: CredentialKind,
  { document, origins }: SemanticContext,
): FleetIssue | undefined {
  const example = kind === 'token' ? '${GATEWAY_TOKEN}' : '${PROVIDER_AUTH}';
  if (!origins.isWholeReference(path) || typeof value !== 'string') {
    return document.issueAt(
      path,
      `write the credential as a reference such as "${example}" and set that variable in the environment; a credential must not be committed to git`,
    );
  }
  if (kind === 'token' && !TOKEN.test(value)) {
    return document.issueAt(
      path,
      `${origins.show(path, value)} is not a usable token: use 16 to 255 printable ASCII characters without spaces (e.g. the output of "openssl rand -hex 16")`,
    );
  }
  if (kind === 'user-password' && !USER_PASSWORD.test(value)) {
    return document.issueAt(
      path,
      `${origins.show(path, value)} is not USER:PASSWORD (printable ASCII, a USER of 1 to 255 characters without ":", a PASSWORD of at most 255)`,
    );
  }
  return undefined;
}
