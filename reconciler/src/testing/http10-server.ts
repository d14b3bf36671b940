import { createServer, type Server, type Socket } from 'node:net';

export interface Http10Answer {
  readonly status?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body: Buffer;
  /** Send Content-Length (a static mirror does); without it the body ends when the connection does (tor's DirPort). */
  readonly contentLength: boolean;
}

/**
 * A plain HTTP/1.0 server on `node:net`: it reads a request head, writes a status line, headers, the whole body,
 * then closes the connection, as a static mirror, many proxies and tor's DirPort do. No keep-alive, ever.
 */
export class Http10Server {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  requests = 0;

  constructor(private readonly answer: (path: string, head: string) => Http10Answer) {}

  async start(port: number): Promise<string> {
    const server = createServer((socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => undefined);
      let head = '';
      const onData = (chunk: Buffer): void => {
        head += chunk.toString('latin1');
        if (!head.includes('\r\n\r\n')) return;
        socket.off('data', onData);
        this.requests++;
        const path = /^GET (\S+)/.exec(head)?.[1] ?? '/';
        const answer = this.answer(path, head);
        const headers = { ...answer.headers };
        if (answer.contentLength) headers['Content-Length'] = String(answer.body.length);
        const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
        socket.write(`HTTP/1.0 ${answer.status ?? '200 OK'}\r\n${lines.join('')}Connection: close\r\n\r\n`);
        socket.end(answer.body);
      };
      socket.on('data', onData);
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    return `http://127.0.0.1:${port}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) =>
      server.close(() => {
        resolve();
      }),
    );
  }
}
