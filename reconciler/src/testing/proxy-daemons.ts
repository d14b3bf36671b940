import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import path from 'node:path';
import { waitFor } from '../wait-for.js';

/** A proxy program (microsocks, tinyproxy: Debian packages) run in the foreground on loopback, stopped by its PID. */
export interface ProxyDaemon {
  readonly port: number;
  /** What it printed so far (stdout and stderr). */
  output(): string;
  stop(): Promise<void>;
}

export interface ProxyLogin {
  readonly user: string;
  readonly password: string;
}

/** A port nothing listens on right now (listen on 0, read, close): for programs that cannot report theirs. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) =>
    server.close(() => {
      resolve();
    }),
  );
  if (address === null || typeof address === 'string') throw new Error('no port from listen(0)');
  return address.port;
}

/** `microsocks -i 127.0.0.1 -p PORT [-u USER -P PASSWORD]`: a SOCKS5 server that resolves names itself. */
export async function startMicrosocks(login: ProxyLogin | null = null): Promise<ProxyDaemon> {
  const port = await freePort();
  const auth = login ? ['-u', login.user, '-P', login.password] : [];
  return started(spawn('microsocks', ['-i', '127.0.0.1', '-p', String(port), ...auth]), port, 'microsocks');
}

/** tinyproxy in the foreground with its own config in `dir`: Basic auth when `login` is set, every CONNECT port allowed. */
export async function startTinyproxy(dir: string, name: string, login: ProxyLogin | null): Promise<ProxyDaemon> {
  const port = await freePort();
  const conf = path.join(dir, `${name}.conf`);
  const lines = [
    `Port ${port}`,
    'Listen 127.0.0.1',
    'Timeout 30',
    'LogLevel Info',
    'MaxClients 100',
    'Allow 127.0.0.1',
  ];
  if (login) lines.push(`BasicAuth ${login.user} ${login.password}`);
  writeFileSync(conf, `${lines.join('\n')}\n`);
  return started(spawn('tinyproxy', ['-d', '-c', conf]), port, 'tinyproxy');
}

async function started(child: ChildProcess, port: number, name: string): Promise<ProxyDaemon> {
  let output = '';
  let exited = false;
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      resolve();
    }),
  );
  void exit.then(() => (exited = true));
  child.once('error', (error) => (output += `spawn failed: ${error.message}\n`));
  const stop = async (): Promise<void> => {
    if (!exited) child.kill('SIGTERM');
    await exit;
  };
  try {
    await waitFor(`${name} listening on 127.0.0.1:${port}`, () => !exited && canConnect(port), 10_000);
  } catch (error) {
    await stop();
    throw new Error(`${name} did not start: ${String(error)}\n${output}`, { cause: error });
  }
  return { port, output: () => output, stop };
}

export function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      resolve(false);
    });
  });
}
