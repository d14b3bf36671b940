import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { waitFor } from '../wait-for.js';
import { canConnect } from './proxy-daemons.js';
import type { TestCertificates } from './test-certificates.js';

/** TESTS ONLY: nginx (the Debian package) serving `www` on 127.0.0.1, stopped by its PID. */
export interface NginxOrigin {
  readonly port: number;
  /** The HTTPS port (when certificates were given), else null. */
  readonly tlsPort: number | null;
  readonly www: string;
  stop(): Promise<void>;
}

/**
 * nginx in the foreground with a config of its own in `dir`: files from `dir/www`, `.bin` as
 * application/octet-stream and `.exe` as application/x-msdownload, `/rN` answering 302 to `/r(N-1)` for N ≤ 3
 * (`/r0` to `/hello.txt`), `/post` a 303 to `/hello.txt` for a POST, `/away` a 302 to an ftp URL, `/gone` a 404, `/busy` a 503.
 */
export async function startNginx(
  dir: string,
  port: number,
  certificates: TestCertificates | null = null,
): Promise<NginxOrigin> {
  const www = path.join(dir, 'www');
  mkdirSync(www, { recursive: true });
  const tlsPort = certificates ? port + 1 : null;
  const locations = `
    location = /r0 { return 302 /hello.txt; }
    location = /r1 { return 302 /r0; }
    location = /r2 { return 302 /r1; }
    location = /r3 { return 302 /r2; }
    location /away { return 302 ftp://127.0.0.1/file; }
    location /gone { return 404; }
    location /busy { return 503; }
    location /post { if ($request_method = POST) { return 303 /hello.txt; } return 405; }`;
  const tls = certificates
    ? `server {
    listen 127.0.0.1:${String(tlsPort)} ssl;
    ssl_certificate ${certificates.certFile};
    ssl_certificate_key ${certificates.keyFile};
    root ${www};${locations}
  }`
    : '';
  writeFileSync(
    path.join(dir, 'nginx.conf'),
    `daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx-error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  types { application/octet-stream bin; application/x-msdownload exe; text/plain txt; }
  default_type application/octet-stream;
  client_body_temp_path ${dir}/nginx-body;
  proxy_temp_path ${dir}/nginx-proxy;
  fastcgi_temp_path ${dir}/nginx-fastcgi;
  uwsgi_temp_path ${dir}/nginx-uwsgi;
  scgi_temp_path ${dir}/nginx-scgi;
  server {
    listen 127.0.0.1:${String(port)};
    root ${www};${locations}
  }
  ${tls}
}
`,
  );
  const child = spawn('nginx', ['-c', path.join(dir, 'nginx.conf'), '-p', dir], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let output = '';
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', () => {
      resolve();
    });
  });
  void exit.then(() => (exited = true));
  const stop = async (): Promise<void> => {
    if (!exited) child.kill('SIGTERM');
    await exit;
  };
  try {
    await waitFor(`nginx on 127.0.0.1:${String(port)}`, () => !exited && canConnect(port), 10_000);
  } catch (error) {
    await stop();
    throw new Error(`nginx did not start: ${String(error)}\n${output}`, { cause: error });
  }
  return { port, tlsPort, www, stop };
}
