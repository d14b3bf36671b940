import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/**
 * The real fixture broker (reconciler/src/testing/fixture-broker.ts, built in dist/) for this client's tests and
 * bench, and the test certificates. Not part of the package's API. This file compiles to
 * dist/clients/typescript/src/fixture.js, four levels below the repository root.
 */
export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
export const CASES = path.join(REPO, 'clients', 'conformance', 'cases.json');
export const FIXTURE_BROKER = path.join(REPO, 'dist', 'reconciler', 'src', 'testing', 'fixture-broker.js');

export interface RunningFixture {
  readonly url: string;
  readonly child: ChildProcess;
  /** SIGCONT (in case it was stopped), then SIGTERM, then SIGKILL after 5 s; resolves once it has exited. */
  stop(): Promise<void>;
}

/** Starts the fixture broker for one suite of cases.json (or `file`); fails, never skips, when it is not built. */
export async function startFixture(
  suite: string,
  options: { readonly tls?: { cert: string; key: string }; readonly file?: string; readonly broker?: string } = {},
): Promise<RunningFixture> {
  const broker = options.broker ?? FIXTURE_BROKER;
  if (!existsSync(broker)) {
    throw new Error(`fixture broker ${broker} is missing: run \`npm run build\` at the repository root`);
  }
  const args = [broker, options.file ?? CASES, '--suite', suite];
  if (options.tls) args.push('--tls', options.tls.cert, options.tls.key);
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      resolve();
    }),
  );
  const line = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => {
      reject(new Error(`fixture broker ended (${String(code)}) before listening`));
    });
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).once('line', resolve);
  });
  const url = (JSON.parse(line) as { url: string }).url;
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      process.kill(child.pid, 'SIGCONT');
      process.kill(child.pid, 'SIGTERM');
      const timer = setTimeout(() => {
        if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
      }, 5000);
      await exited;
      clearTimeout(timer);
    }
    child.stdin.destroy();
  };
  return { url, child, stop };
}

export interface TestCerts {
  readonly dir: string;
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
  remove(): void;
}

/** A CA and a server certificate for 127.0.0.1 signed by it, made with the openssl CLI in a new temp directory. */
export function makeCerts(): TestCerts {
  const dir = mkdtempSync(path.join(tmpdir(), 'torfleet-tsclient-tls-'));
  const at = (name: string): string => path.join(dir, name);
  const openssl = (...args: string[]): void => {
    execFileSync('openssl', args, { stdio: 'ignore' });
  };
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    at('ca.key'),
    '-out',
    at('ca.pem'),
    '-days',
    '2',
    '-subj',
    '/CN=torfleet test CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign',
  );
  openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    at('key.pem'),
    '-out',
    at('req.csr'),
    '-subj',
    '/CN=127.0.0.1',
  );
  writeFileSync(at('ext.cnf'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  openssl(
    'x509',
    '-req',
    '-in',
    at('req.csr'),
    '-CA',
    at('ca.pem'),
    '-CAkey',
    at('ca.key'),
    '-CAcreateserial',
    '-out',
    at('cert.pem'),
    '-days',
    '2',
    '-extfile',
    at('ext.cnf'),
  );
  return {
    dir,
    ca: at('ca.pem'),
    cert: at('cert.pem'),
    key: at('key.pem'),
    remove: () => {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
