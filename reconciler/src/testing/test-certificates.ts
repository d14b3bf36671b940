import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** TESTS ONLY: PEM files of a throwaway CA and a server certificate it signed for 127.0.0.1 (made with openssl). */
export interface TestCertificates {
  readonly caFile: string;
  readonly ca: Buffer;
  readonly certFile: string;
  readonly keyFile: string;
}

/** Makes them in `dir` (2-day validity, RSA 2048). */
export function makeTestCertificates(dir: string): TestCertificates {
  const openssl = (args: string): void => {
    execFileSync('openssl', args.split(' '), { cwd: dir, stdio: 'ignore' });
  };
  openssl('req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=torfleet-test-CA');
  writeFileSync(path.join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n');
  openssl('req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=127.0.0.1');
  openssl(
    'x509 -req -in server.csr -CA ca.pem -CAkey ca.key -set_serial 0x1001 -days 2 -extfile server.ext -out server.pem',
  );
  return {
    caFile: path.join(dir, 'ca.pem'),
    ca: readFileSync(path.join(dir, 'ca.pem')),
    certFile: path.join(dir, 'server.pem'),
    keyFile: path.join(dir, 'server.key'),
  };
}
