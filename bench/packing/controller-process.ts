/** The bench's handle on controller-child.js: requests over IPC, one answer per id; ended by its pid. */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { PackedProxy } from '../../reconciler/src/packing/packed-proxy.js';
import type { ChildStatus, ChildUsage } from './controller-child.js';

interface Answer {
  readonly id: number;
  readonly value?: unknown;
  readonly error?: string;
}

export class ControllerProcess {
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  #next = 1;

  private constructor(child: ChildProcess) {
    this.#child = child;
    child.on('message', (answer: Answer) => {
      const waiter = this.#pending.get(answer.id);
      if (!waiter) return;
      this.#pending.delete(answer.id);
      if (answer.error !== undefined) waiter.reject(new Error(answer.error));
      else waiter.resolve(answer.value);
    });
    child.once('exit', (code, signal) => {
      for (const waiter of this.#pending.values()) {
        waiter.reject(new Error(`the controller process ended (${String(code ?? signal)})`));
      }
      this.#pending.clear();
    });
  }

  /** Forks the controller of the shared tor whose data directory is `dataDirectory`; resolves once it runs. */
  static async start(dataDirectory: string): Promise<ControllerProcess> {
    const script = fileURLToPath(new URL('./controller-child.js', import.meta.url));
    const child = fork(script, [dataDirectory], { execArgv: [], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    const handle = new ControllerProcess(child);
    await new Promise<void>((resolve, reject) => {
      handle.#pending.set(0, {
        resolve: () => {
          resolve();
        },
        reject,
      });
    });
    return handle;
  }

  get pid(): number {
    return this.#child.pid ?? 0;
  }

  setProxies(proxies: readonly PackedProxy[]): Promise<void> {
    return this.#request('set', { proxies }).then(() => undefined);
  }

  status(): Promise<ChildStatus> {
    return this.#request('status') as Promise<ChildStatus>;
  }

  usage(): Promise<ChildUsage> {
    return this.#request('usage') as Promise<ChildUsage>;
  }

  /** Stops the controller (its run ends), then the process by its pid if it is still there after 5 s. */
  async stop(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.#child.once('exit', resolve));
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 5000);
    await this.#request('stop').catch(() => undefined);
    await exited;
    clearTimeout(timer);
  }

  /** Ends the process at once (on failure). */
  kill(): void {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill('SIGKILL');
  }

  #request(op: string, extra: object = {}): Promise<unknown> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#child.send({ id, op, ...extra });
    });
  }
}
