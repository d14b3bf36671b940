import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import path from 'node:path';

/** A relay of the scripted tor's consensus. */
export interface ScriptedRelay {
  readonly nickname: string;
  /** 40 upper-case hex digits. */
  readonly fingerprint: string;
  readonly address: string;
  readonly flags: readonly string[];
}

/** What the scripted tor writes for one command; null: the default answer. */
export type CommandScript = (line: string, tor: ScriptedTorControl) => string | null;

/**
 * A tor ControlSocket that speaks the control protocol byte for byte but decides nothing itself: it answers the
 * commands a controller sends with tor's reply formats (`250 EXTENDED <id>`, `250+ns/all=` data blocks, `650`
 * events), records every command, and writes what the test scripts, when the test says, in one write if asked
 * (an event before the reply it races, as tor on loopback can). For the orderings a real tor produces only
 * sometimes; the real tor's behaviour is tested on the private network.
 */
export class ScriptedTorControl {
  readonly socketPath: string;
  readonly cookieFile: string;
  readonly commands: string[] = [];
  relays: ScriptedRelay[] = [];
  /** Tried before the default answer of every command. */
  script: CommandScript = () => null;
  #nextCircuit = 100;
  #socket: Socket | null = null;
  readonly #server: Server;
  readonly #waiters: { pattern: RegExp; from: number; resolve: (line: string) => void }[] = [];

  private constructor(dir: string) {
    this.socketPath = path.join(dir, 'control.sock');
    this.cookieFile = path.join(dir, 'control_auth_cookie');
    writeFileSync(this.cookieFile, randomBytes(32));
    this.#server = createServer((socket) => {
      this.#socket = socket;
      socket.on('error', () => undefined);
      let buffered = '';
      socket.on('data', (chunk: Buffer) => {
        buffered += chunk.toString('latin1');
        for (let end = buffered.indexOf('\r\n'); end !== -1; end = buffered.indexOf('\r\n')) {
          const line = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          this.#onCommand(line);
        }
      });
    });
  }

  static async start(dir: string): Promise<ScriptedTorControl> {
    const tor = new ScriptedTorControl(dir);
    await new Promise<void>((resolve) => tor.#server.listen(tor.socketPath, resolve));
    return tor;
  }

  /** The id the next EXTENDCIRCUIT gets. */
  get nextCircuitId(): string {
    return String(this.#nextCircuit);
  }

  /** Writes raw protocol bytes to the controller (events, in one write). */
  write(raw: string): void {
    this.#socket?.write(raw);
  }

  /** Resolves with the first command matching `pattern` sent after the `from`-th (default: any so far). */
  waitForCommand(pattern: RegExp, from = 0): Promise<string> {
    const seen = this.commands.slice(from).find((line) => pattern.test(line));
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve) => this.#waiters.push({ pattern, from, resolve }));
  }

  /** The commands matching `pattern`. */
  sent(pattern: RegExp): string[] {
    return this.commands.filter((line) => pattern.test(line));
  }

  async close(): Promise<void> {
    this.#socket?.destroy();
    await new Promise<void>((resolve) =>
      this.#server.close(() => {
        resolve();
      }),
    );
  }

  #onCommand(line: string): void {
    this.commands.push(line);
    const answer = this.script(line, this) ?? this.#default(line);
    this.write(answer);
    for (const waiter of [...this.#waiters]) {
      if (this.commands.length > waiter.from && waiter.pattern.test(line)) {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  }

  #default(line: string): string {
    const [verb = '', ...rest] = line.split(' ');
    switch (verb) {
      case 'GETCONF':
        return rest[0] === 'MaxCircuitDirtiness' ? '250 MaxCircuitDirtiness=600\r\n' : '250 OK\r\n';
      case 'GETINFO': {
        const key = rest[0] ?? '';
        if (key === 'ns/all') return `250+ns/all=\r\n${this.relays.map(statusEntry).join('')}.\r\n250 OK\r\n`;
        if (key === 'circuit-status' || key === 'stream-status') return `250-${key}=\r\n250 OK\r\n`;
        return '552 Unrecognized key\r\n';
      }
      case 'EXTENDCIRCUIT':
        return `250 EXTENDED ${this.#nextCircuit++}\r\n`;
      case 'CLOSECIRCUIT':
        return `250 OK\r\n650 CIRC ${rest[0] ?? ''} CLOSED PURPOSE=CONTROLLER REASON=REQUESTED\r\n`;
      default:
        return '250 OK\r\n';
    }
  }

  /** EXTENDCIRCUIT's answer with its circuit's id, and the id, for a script that adds events around it. */
  extended(): { id: string; reply: string } {
    const id = String(this.#nextCircuit++);
    return { id, reply: `250 EXTENDED ${id}\r\n` };
  }
}

/** A router status entry as `GETINFO ns/all` gives it (`r`, `s`, `w` lines). */
function statusEntry(relay: ScriptedRelay): string {
  const identity = Buffer.from(relay.fingerprint, 'hex').toString('base64').replace(/=+$/, '');
  return (
    `r ${relay.nickname} ${identity} AAAAAAAAAAAAAAAAAAAAAAAAAAA 2026-12-01 00:00:00 ${relay.address} 5000 0\r\n` +
    `s ${relay.flags.join(' ')}\r\nw Bandwidth=1000\r\n`
  );
}

/** The hops of an EXTENDCIRCUIT command (`EXTENDCIRCUIT 0 $G,$M,$E purpose=controller`), without the `$`. */
export function extendPath(line: string): string[] {
  return (line.split(' ')[2] ?? '').split(',').map((hop) => hop.replace(/^\$/, ''));
}
