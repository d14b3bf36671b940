import { execFile } from 'node:child_process';
import { connect, type Socket } from 'node:net';

/** TESTS ONLY: raw clients of the gateway (node:net, curl, python3), so nothing repairs a request on its way. */

export interface RawAnswer {
  readonly text: string;
  readonly status: number;
}

/** Sends `bytes` on a fresh connection to `port` and reads until the gateway closes it. */
export function rawExchange(port: number, bytes: string | Buffer): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined); // the gateway may close while the client still writes
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      resolve({ text, status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0) });
    });
    socket.setTimeout(20_000, () => {
      socket.destroy();
      reject(new Error('rawExchange: the gateway did not close the connection within 20 s'));
    });
  });
}

/** A connected socket to `port`. */
export function connectTo(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** Reads from `socket` until `count` bytes arrived (or rejects when it closes first). */
export function readBytes(socket: Socket, count: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      length += chunk.length;
      if (length < count) return;
      socket.off('data', onData);
      socket.off('close', onClose);
      const all = Buffer.concat(chunks);
      if (all.length > count) socket.unshift(all.subarray(count));
      resolve(all.subarray(0, count));
    };
    const onClose = (): void => {
      socket.off('data', onData);
      reject(new Error(`the connection closed after ${length} of ${count} bytes`));
    };
    socket.on('data', onData);
    socket.once('close', onClose);
  });
}

/** Resolves when `socket` closes. */
export function closed(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    if (socket.closed) resolve();
    else
      socket.once('close', () => {
        resolve();
      });
  });
}

export interface ProgramRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `program` (curl, python3) with a 30 s deadline; never rejects, the exit code says how it went. */
export function run(program: string, args: readonly string[], input?: string): Promise<ProgramRun> {
  // Windows has python.exe, not python3, and its programs need more of the environment than PATH.
  const windows = process.platform === 'win32';
  return new Promise((resolve) => {
    const child = execFile(
      windows && program === 'python3' ? 'python' : program,
      args,
      { timeout: 30_000, env: windows ? process.env : { PATH: process.env.PATH ?? '' } },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** A SOCKS5 handshake by hand: greeting, user/password when given, CONNECT to a name or an IPv4 literal. */
export async function socksConnect(
  port: number,
  auth: { readonly user: string; readonly pass: string } | null,
  target: { readonly host: string; readonly port: number },
): Promise<{
  readonly socket: Socket;
  readonly method: number;
  readonly authStatus: number | null;
  readonly reply: number | null;
}> {
  const socket = await connectTo(port);
  socket.on('error', () => undefined);
  socket.write(Buffer.from(auth ? [5, 1, 2] : [5, 1, 0]));
  const [, method = -1] = await readBytes(socket, 2);
  if (method === 0xff) return { socket, method, authStatus: null, reply: null };
  let authStatus: number | null = null;
  if (auth) {
    const user = Buffer.from(auth.user);
    const pass = Buffer.from(auth.pass);
    socket.write(Buffer.concat([Buffer.from([1, user.length]), user, Buffer.from([pass.length]), pass]));
    authStatus = (await readBytes(socket, 2))[1] ?? -1;
    if (authStatus !== 0) return { socket, method, authStatus, reply: null };
  }
  const ipv4 = /^\d+\.\d+\.\d+\.\d+$/.test(target.host);
  const address = ipv4
    ? Buffer.from([1, ...target.host.split('.').map(Number)])
    : Buffer.concat([Buffer.from([3, target.host.length]), Buffer.from(target.host)]);
  const portBytes = Buffer.alloc(2);
  portBytes.writeUInt16BE(target.port);
  socket.write(Buffer.concat([Buffer.from([5, 1, 0]), address, portBytes]));
  const reply = (await readBytes(socket, 10))[1] ?? -1;
  return { socket, method, authStatus, reply };
}

/**
 * A CONNECT tunnel through the gateway on `port` to `target` (`IP:PORT`), asking for route `user` with `password`
 * as the token; resolves once the gateway answered 200 (rejects on anything else).
 */
export async function connectTunnel(port: number, target: string, user: string, password: string): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  const auth = Buffer.from(`${user}:${password}`).toString('base64');
  socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: x\r\nProxy-Authorization: Basic ${auth}\r\n\r\n`);
  const head = await new Promise<string>((resolve, reject) => {
    socket.once('data', (chunk: Buffer) => {
      resolve(chunk.toString());
    });
    socket.once('error', reject);
  });
  if (!head.startsWith('HTTP/1.1 200')) {
    socket.destroy();
    throw new Error(`the gateway refused the tunnel: ${head.split('\r\n')[0] ?? ''}`);
  }
  return socket;
}

/** Whether `text` written into a tunnel to an echo server comes back as it was. */
export async function echoes(socket: Socket, text: string): Promise<boolean> {
  const answer = new Promise<string>((resolve) => {
    socket.once('data', (chunk: Buffer) => {
      resolve(chunk.toString());
    });
  });
  socket.write(text);
  return (await answer) === text;
}
