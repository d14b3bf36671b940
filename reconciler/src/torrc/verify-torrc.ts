import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TorfleetError } from '../errors.js';
import { safeMessage } from '../fleet/display-text.js';

export interface VerifyOptions {
  /** The tor binary; `tor` on the PATH by default. */
  readonly torBinary?: string;
  readonly timeoutMs?: number;
  /** The template the torrc came from, named in a rejection; templates/torrc.tmpl by default. */
  readonly templateFile?: string;
}

/** Tor's warnings that say nothing wrong about the file (running as root, a private network ...). */
const NOISE = [
  /running Tor as root/i,
  /alternate directory authorities/i,
  /TestingTorNetwork is set/i,
  /MaxMemInQueues is set to a low value/i,
];

/**
 * Checks a rendered torrc with `tor --verify-config` (the second gate: values were validated before
 * rendering). Its DataDirectory and ControlSocket are paths where the proxy runs (inside a container),
 * which tor would check against this machine: they are pointed at a scratch directory for the check.
 * Throws a TorfleetError naming the proxy (or shared tor) and quoting tor's warnings.
 */
export async function verifyTorrc(proxy: string, torrc: string, options: VerifyOptions = {}): Promise<void> {
  const binary = options.torBinary ?? 'tor';
  const scratch = await mkdtemp(path.join(tmpdir(), 'torfleet-verify-'));
  const checked = torrc
    .replace(/^DataDirectory .*$/m, `DataDirectory ${scratch}`)
    .replace(/^ControlSocket .*$/m, `ControlSocket ${scratch}/control`);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const { code, output } = await runTor(binary, checked, timeoutMs)
    .finally(() => rm(scratch, { recursive: true, force: true }))
    .catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new TorfleetError(
          'TOR_MISSING',
          'stalled',
          `cannot check the torrc of ${proxy}: "${binary}" is not installed (apt-get install tor); torfleet checks every torrc with tor --verify-config`,
          { cause: error },
        );
      }
      throw new TorfleetError(
        'TORRC_UNCHECKED',
        'generic',
        `cannot check the torrc of ${proxy} with ${binary} --verify-config`,
        {
          cause: error,
        },
      );
    });
  if (code === 0) return;
  // Killed at its deadline (a loaded machine), not a verdict on the file: try again later.
  if (code === null) {
    throw new TorfleetError(
      'TORRC_UNCHECKED',
      'waiting',
      `cannot check the torrc of ${proxy}: ${binary} --verify-config did not finish within ${String(timeoutMs / 1000)} s; it is checked again shortly (check the machine's load)`,
      { retryAfterMs: timeoutMs },
    );
  }
  const problems = complaintsOf(output, secretsOf(torrc));
  throw new TorfleetError(
    'TORRC_INVALID',
    'stalled',
    `tor rejects the torrc of ${proxy}: ${problems.join('; ') || `tor --verify-config exited ${String(code)}`}; check ${options.templateFile ?? 'templates/torrc.tmpl'} and the fleet's tor settings`,
  );
}

/** Tor's complaints shown at most; the first ones name the cause. */
const MAX_COMPLAINTS = 5;

/**
 * Tor's warnings, one bounded, escaped line each. Tor quotes option values in its warnings, so the
 * text of every credential in the torrc is replaced first: a credential never leaves through tor.
 */
function complaintsOf(output: string, secrets: readonly string[]): string[] {
  const complaints = output
    .split('\n')
    .filter((line) => /\[(warn|err)\]/.test(line) && !NOISE.some((noise) => noise.test(line)))
    .map((line) => line.replace(/^.*?\[(warn|err)\] /, '').trim())
    .filter((line) => !/^Reading config failed/.test(line))
    .map((line) =>
      safeMessage(
        secrets.reduce((text, secret) => text.split(secret).join('[redacted]'), line),
        300,
      ),
    );
  return complaints.length > MAX_COMPLAINTS
    ? [...complaints.slice(0, MAX_COMPLAINTS), `and ${complaints.length - MAX_COMPLAINTS} more`]
    : complaints;
}

/** The credentials a rendered torrc holds (HTTPSProxyAuthenticator "USER:PASSWORD"): the whole and each part. */
function secretsOf(torrc: string): string[] {
  const secrets: string[] = [];
  for (const match of torrc.matchAll(/^\s*HTTPSProxyAuthenticator\s+"?([^"\n]*)"?\s*$/gim)) {
    const credential = match[1] ?? '';
    secrets.push(credential, ...credential.split(':').filter((part) => part.length >= 4));
  }
  return secrets.filter((secret) => secret.length > 0).sort((a, b) => b.length - a.length);
}

/** Tor's exit code, null when it was killed (at its deadline). */
function runTor(binary: string, torrc: string, timeoutMs: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, ['--verify-config', '--hush', '--defaults-torrc', '/dev/null', '-f', '-'], {
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: timeoutMs,
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      resolve({ code, output });
    });
    child.stdin.end(torrc);
  });
}
