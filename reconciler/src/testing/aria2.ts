import { execFile } from 'node:child_process';

export interface Aria2Result {
  readonly code: number;
  readonly output: string;
}

/**
 * TESTS ONLY: aria2c (the Debian package, an independent BitTorrent client) downloads `torrentFile` into `dir`
 * and stops once it has it (no seeding); loopback only: no DHT, no peer exchange, no local peer discovery, so
 * the torrent's tracker is the only way it finds peers. Never rejects: the exit code and output tell.
 */
export function aria2Download(
  torrentFile: string,
  dir: string,
  listenPort: number,
  options: { readonly requireCrypto?: boolean; readonly timeoutMs?: number } = {},
): Promise<Aria2Result> {
  const args = [
    '--no-conf=true',
    `--dir=${dir}`,
    '--seed-time=0',
    '--enable-dht=false',
    '--enable-dht6=false',
    '--enable-peer-exchange=false',
    '--bt-enable-lpd=false',
    '--disable-ipv6=true',
    `--listen-port=${String(listenPort)}`,
    `--dht-listen-port=${String(listenPort + 1)}`,
    '--follow-torrent=mem',
    '--allow-overwrite=true',
    '--summary-interval=0',
    '--console-log-level=warn',
    '--bt-tracker-connect-timeout=10',
    '--bt-stop-timeout=60',
    ...(options.requireCrypto ? ['--bt-require-crypto=true', '--bt-min-crypto-level=arc4'] : []),
    torrentFile,
  ];
  return new Promise((resolve) => {
    execFile('aria2c', args, { timeout: options.timeoutMs ?? 90_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}
