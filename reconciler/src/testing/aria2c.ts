import { spawn } from 'node:child_process';

export interface Aria2cRun {
  readonly code: number | null;
  readonly output: string;
  readonly elapsedMs: number;
}

/** aria2c's flags that make it insist on an encrypted (MSE/PE, RC4) connection. */
export const ARIA2C_REQUIRE_CRYPTO = ['--bt-require-crypto=true', '--bt-min-crypto-level=arc4'];

/**
 * TESTS AND BENCHES ONLY. Runs the real aria2c on a .torrent until it has the whole content (then it exits: --seed-time=0), killed by PID
 * after `timeoutMs`. It talks to nothing beyond loopback: the torrent is private and announces to a tracker on
 * 127.0.0.1; DHT, peer exchange, local peer discovery and IPv6 are off and no config file is read.
 */
export function runAria2c(options: {
  torrentFile: string;
  dir: string;
  listenPort: number;
  dhtPort: number;
  extraArgs?: readonly string[];
  timeoutMs?: number;
}): Promise<Aria2cRun> {
  const args = [
    '--no-conf=true',
    `--dir=${options.dir}`,
    '--seed-time=0',
    '--enable-dht=false',
    '--enable-dht6=false',
    '--enable-peer-exchange=false',
    '--bt-enable-lpd=false',
    '--disable-ipv6=true',
    `--listen-port=${String(options.listenPort)}`,
    `--dht-listen-port=${String(options.dhtPort)}`,
    '--follow-torrent=mem',
    '--allow-overwrite=true',
    '--summary-interval=0',
    '--console-log-level=warn',
    '--bt-stop-timeout=60',
    ...(options.extraArgs ?? []),
    options.torrentFile,
  ];
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn('aria2c', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => {
      output += `\n[killed after ${String(options.timeoutMs ?? 60_000)} ms]`;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 60_000);
    const finish = (code: number | null): void => {
      clearTimeout(timer);
      resolve({ code, output, elapsedMs: Date.now() - started });
    };
    child.on('error', (error) => {
      output += `\n${error.message}`;
      finish(null);
    });
    child.on('exit', finish);
  });
}
