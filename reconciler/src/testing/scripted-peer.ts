import { createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP server on an ephemeral loopback port that does what the test says with each connection (answer
 * garbage, close mid-handshake, stay silent, relay): for hostile and recording peers. Counts open connections,
 * so a test can prove the other side closed every socket it opened.
 */
export class ScriptedPeer {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  accepted = 0;

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(onConnection: (socket: Socket) => void): Promise<ScriptedPeer> {
    const server = createServer();
    const peer = new ScriptedPeer(server);
    server.on('connection', (socket) => {
      peer.accepted++;
      peer.#sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => peer.#sockets.delete(socket));
      onConnection(socket);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return peer;
  }

  get port(): number {
    const address = this.#server.address();
    if (address === null || typeof address === 'string') throw new Error('not listening');
    return address.port;
  }

  /** Connections the other side has not closed yet. */
  get open(): number {
    return this.#sockets.size;
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) =>
      this.#server.close(() => {
        resolve();
      }),
    );
  }
}

/** Reads until `count` bytes arrived (a handshake message), then hands them over; the rest stays in the socket. */
export function readBytes(socket: Socket, count: number): Promise<Buffer> {
  return new Promise((resolve) => {
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      if (buffered.length < count) return;
      socket.off('data', onData);
      socket.pause();
      if (buffered.length > count) socket.unshift(buffered.subarray(count));
      resolve(buffered.subarray(0, count));
    };
    socket.on('data', onData);
    socket.resume();
  });
}
