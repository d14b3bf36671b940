import { connect, type Socket } from 'node:net';
import { errorMessage, TorfleetError } from '../errors.js';
import { FileReadError, readRegularFile } from '../fs/read-regular-file.js';
import { ControlProtocolError, ReplyReader, type ControlReply } from './control-reply-reader.js';

export { getinfoLines, type ControlReply, type ReplyLine } from './control-reply-reader.js';

/** tor's cookie is 32 bytes. */
const MAX_COOKIE_BYTES = 1024;

export interface ControlConnectionOptions {
  /** The ControlSocket (a Unix socket path). */
  readonly socketPath: string;
  /** `control_auth_cookie` beside it. */
  readonly cookieFile: string;
  /** Every asynchronous event (650 replies), in the order tor sent them. A throw is passed to onEventError. */
  readonly onEvent: (event: ControlReply) => void;
  readonly onEventError?: (error: unknown) => void;
  /** Connect, and each command's reply, within this (default 10 s); a late reply ends the connection. */
  readonly commandTimeoutMs?: number;
  /** Longest reply line (default 64 KiB), largest reply to a command (default 1 MiB) and largest event (64 KiB). */
  readonly maxLineBytes?: number;
  readonly maxReplyBytes?: number;
  readonly maxEventBytes?: number;
}

export interface CommandOptions {
  readonly timeoutMs?: number;
  /** A larger cap for a command known to answer at length (`GETINFO ns/all`). */
  readonly maxReplyBytes?: number;
}

/** tor answered a command with an error status (4xx/5xx): the connection itself is fine. */
export class ControlRefusedError extends TorfleetError {
  constructor(
    readonly command: string,
    readonly reply: ControlReply,
  ) {
    const last = reply.lines[reply.lines.length - 1]?.text ?? '';
    super('RUNTIME', 'waiting', `tor refused ${command.split(' ')[0] ?? ''}: ${reply.status} ${last.slice(0, 300)}`);
    this.name = 'ControlRefusedError';
  }
}

interface Pending {
  readonly command: string;
  readonly maxReplyBytes: number;
  readonly timer: NodeJS.Timeout;
  resolve(reply: ControlReply): void;
  reject(error: Error): void;
}

/**
 * A persistent, cookie-authenticated connection to a tor ControlSocket: commands are pipelined and their replies
 * matched in order; events go to `onEvent`. The peer lives in a data directory another process can write, so it
 * is not trusted: every line and reply is capped, a reply that is not the protocol, a command unanswered within its
 * timeout (replies could no longer be matched to commands) or a reply nobody asked for ends the connection, and
 * every pending command then rejects. Nothing here throws outside a returned promise.
 */
export class ControlConnection {
  readonly #socket: Socket;
  readonly #options: ControlConnectionOptions;
  readonly #pending: Pending[] = [];
  readonly #reader: ReplyReader;
  readonly #timeoutMs: number;
  readonly #maxReplyBytes: number;
  #closedWith: Error | null = null;
  readonly #closeListeners: ((why: Error) => void)[] = [];
  /** Resolves (never rejects) with why the connection ended: a close(), the peer, a protocol error. */
  readonly closed: Promise<Error>;

  private constructor(socket: Socket, options: ControlConnectionOptions) {
    this.#socket = socket;
    this.#options = options;
    this.#timeoutMs = options.commandTimeoutMs ?? 10_000;
    this.#maxReplyBytes = options.maxReplyBytes ?? 1024 * 1024;
    const maxEventBytes = options.maxEventBytes ?? 64 * 1024;
    this.#reader = new ReplyReader(
      {
        maxLineBytes: options.maxLineBytes ?? 64 * 1024,
        maxReplyBytes: (isEvent) =>
          isEvent ? maxEventBytes : (this.#pending[0]?.maxReplyBytes ?? this.#maxReplyBytes),
      },
      (reply) => {
        this.#reply(reply);
      },
    );
    this.closed = new Promise((resolve) => this.#closeListeners.push(resolve));
    if (socket.destroyed) {
      queueMicrotask(() => {
        this.#fail('tor closed the connection');
      });
    }
    socket.on('data', (chunk: Buffer) => {
      if (this.#closedWith) return;
      try {
        this.#reader.push(chunk);
      } catch (error) {
        this.#fail(error instanceof ControlProtocolError ? `it broke the control protocol: ${error.message}` : error);
      }
    });
    socket.on('error', (error) => {
      this.#fail(error);
    });
    socket.on('close', () => {
      this.#fail(
        this.#reader.inReply ? 'tor closed the connection in the middle of a reply' : 'tor closed the connection',
      );
    });
  }

  /** Connects and authenticates with the cookie; rejects with a readable error (no tor yet, refused, hostile). */
  static async open(options: ControlConnectionOptions): Promise<ControlConnection> {
    const cookie = await readRegularFile(options.cookieFile, MAX_COOKIE_BYTES).catch((error: unknown) => {
      const why =
        error instanceof FileReadError && error.reason !== 'unreadable'
          ? error.about(`the control cookie ${options.cookieFile}`)
          : `no control cookie ${options.cookieFile} yet (tor not started?)`;
      throw new TorfleetError('RUNTIME', 'waiting', why, { cause: error });
    });
    const socket = await connectWithin(options.socketPath, options.commandTimeoutMs ?? 10_000);
    const connection = new ControlConnection(socket, options);
    try {
      await connection.command(`AUTHENTICATE ${cookie.toString('hex')}`);
    } catch (error) {
      connection.close();
      throw error;
    }
    return connection;
  }

  get isOpen(): boolean {
    return this.#closedWith === null;
  }

  /** Sends one command line; resolves with its 2xx reply, rejects with ControlRefusedError for 4xx/5xx. */
  command(line: string, options: CommandOptions = {}): Promise<ControlReply> {
    if (/[\r\n\0]/.test(line)) {
      return Promise.reject(new Error('a control command may not contain a line break or NUL'));
    }
    if (this.#closedWith) return Promise.reject(this.#closedWith);
    return new Promise((resolve, reject) => {
      const timeoutMs = options.timeoutMs ?? this.#timeoutMs;
      const timer = setTimeout(() => {
        this.#fail(`no reply to ${line.split(' ')[0] ?? ''} within ${timeoutMs} ms`);
      }, timeoutMs);
      this.#pending.push({
        command: line,
        maxReplyBytes: options.maxReplyBytes ?? this.#maxReplyBytes,
        timer,
        resolve: (reply) => {
          if (reply.status >= 200 && reply.status < 300) resolve(reply);
          else reject(new ControlRefusedError(line, reply));
        },
        reject,
      });
      this.#socket.write(`${line}\r\n`);
    });
  }

  /** Ends the connection; pending commands reject. Idempotent. */
  close(): void {
    this.#fail('the control connection was closed');
  }

  #reply(reply: ControlReply): void {
    if (reply.status >= 600 && reply.status < 700) {
      try {
        this.#options.onEvent(reply);
      } catch (error) {
        this.#options.onEventError?.(error);
      }
      return;
    }
    const pending = this.#pending.shift();
    if (!pending) {
      this.#fail(`it sent a reply to no command (${reply.status})`);
      return;
    }
    clearTimeout(pending.timer);
    pending.resolve(reply);
  }

  #fail(why: unknown): void {
    if (this.#closedWith) return;
    const error =
      why instanceof TorfleetError
        ? why
        : new TorfleetError(
            'RUNTIME',
            'waiting',
            `tor control ${this.#options.socketPath}: ${typeof why === 'string' ? why : errorMessage(why)}`,
          );
    this.#closedWith = error;
    this.#socket.destroy();
    for (const pending of this.#pending.splice(0)) {
      clearTimeout(pending.timer);
      pending.reject(error);
    }
    for (const listener of this.#closeListeners) listener(error);
  }
}

function connectWithin(socketPath: string, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new TorfleetError('RUNTIME', 'waiting', `tor control ${socketPath}: no connection within ${timeoutMs} ms`),
      );
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      socket.on('error', () => undefined); // until the connection's own handler is on: no unhandled 'error'
      resolve(socket);
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(new TorfleetError('RUNTIME', 'waiting', `tor control ${socketPath}: ${error.message}`, { cause: error }));
    });
  });
}
