import { Worker } from 'node:worker_threads';
import { ConfigError } from '../errors.js';
import type { ListenAddress } from '../listen-address.js';
import type { LogLevel } from '../logger.js';
import type { GatewayHost } from './gateway-host.js';
import { toWire, type GatewayInput } from './gateway-input.js';
import type { WorkerReply, WorkerRequest } from './gateway-thread-messages.js';

/** How long run's /metrics waits for the gateway's part. */
const METRICS_DEADLINE_MS = 2000;

/** What a drain may take beyond its own deadline before the worker is terminated anyway. */
const DRAIN_GRACE_MS = 5000;

type Pending = { resolve: (value: unknown) => void; reject: (error: Error) => void };
type Request = WorkerRequest extends infer R ? (R extends WorkerRequest ? Omit<R, 'id'> : never) : never;

/**
 * `torfleet run`'s gateway, in a worker thread of its own (gateway-worker.ts). Each `start` after the worker
 * died starts a new one; a worker that exits unasked rejects `failure()` and every pending call. A worker
 * lives only while it serves: a start that fails ends it (a live worker keeps `run` from exiting).
 */
export class GatewayThread implements GatewayHost {
  readonly #level: LogLevel;
  readonly #script: URL;
  #worker: Worker | undefined;
  #nextId = 1;
  /** The last word on unusable proxies, given again to every new worker. */
  #unusable: readonly string[] = [];
  readonly #pending = new Map<number, Pending>();
  /** The promise `failure()` hands out until the next unasked death of a worker; made on demand. */
  #failed: { promise: Promise<never>; reject: (error: Error) => void } | undefined;

  /** `script`: the worker's module (tests give one that can be made to fail); default gateway-worker.js. */
  constructor(options: { readonly level: LogLevel; readonly script?: URL }) {
    this.#level = options.level;
    this.#script = options.script ?? new URL('./gateway-worker.js', import.meta.url);
  }

  async start(listen: ListenAddress, input: GatewayInput): Promise<void> {
    const worker = this.#spawn();
    try {
      await this.#call({ op: 'unusable', proxies: this.#unusable });
      await this.#call({ op: 'start', listen, input: toWire(input) });
    } catch (error) {
      if (this.#worker === worker) this.#worker = undefined;
      await worker.terminate();
      throw error;
    }
  }

  async update(input: GatewayInput): Promise<void> {
    await this.#call({ op: 'update', input: toWire(input) });
  }

  async setUnusable(proxies: readonly string[]): Promise<void> {
    this.#unusable = [...proxies];
    if (this.#worker) await this.#call({ op: 'unusable', proxies: this.#unusable });
  }

  /**
   * '' when there is no worker, or it dies or does not answer within METRICS_DEADLINE_MS: run's /metrics
   * must not fail or hang because of the gateway (its death is `failure()`'s news).
   */
  async metricsText(): Promise<string> {
    if (!this.#worker) return '';
    return ((await this.#call({ op: 'metrics' }, METRICS_DEADLINE_MS).catch(() => '')) as string | undefined) ?? '';
  }

  async drain(ms: number): Promise<void> {
    const worker = this.#worker;
    if (!worker) return;
    try {
      await this.#call({ op: 'drain', ms }, ms + DRAIN_GRACE_MS); // a stuck worker is terminated all the same
    } finally {
      this.#worker = undefined;
      await worker.terminate();
    }
  }

  /** Rejects at the next worker death nobody asked for, whichever worker (one after a moved listener too). */
  failure(): Promise<never> {
    if (!this.#failed) {
      let reject: (error: Error) => void = () => undefined;
      const promise = new Promise<never>((_resolve, fail) => {
        reject = fail;
      });
      promise.catch(() => undefined);
      this.#failed = { promise, reject };
    }
    return this.#failed.promise;
  }

  #spawn(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(this.#script, { workerData: { level: this.#level } });
    worker.on('message', (reply: WorkerReply) => {
      const pending = this.#pending.get(reply.id);
      if (!pending) return;
      this.#pending.delete(reply.id);
      if (reply.ok) pending.resolve(reply.value);
      else pending.reject(reply.config ? new ConfigError(reply.message) : new Error(reply.message));
    });
    const died = (error: Error): void => {
      if (this.#worker !== worker) return;
      this.#worker = undefined;
      for (const pending of this.#pending.values()) pending.reject(error);
      this.#pending.clear();
      const failed = this.#failed;
      this.#failed = undefined;
      failed?.reject(error);
    };
    worker.on('error', died);
    worker.on('exit', (code) => {
      died(new Error(`the gateway worker thread exited (code ${String(code)})`));
    });
    this.#worker = worker;
    return worker;
  }

  #call(request: Request, deadlineMs?: number): Promise<unknown> {
    const worker = this.#worker;
    if (!worker) return Promise.reject(new Error('the gateway worker thread is not running'));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer =
        deadlineMs === undefined
          ? undefined
          : setTimeout(() => {
              this.#pending.delete(id);
              reject(
                new Error(`the gateway worker thread did not answer ${request.op} within ${String(deadlineMs)} ms`),
              );
            }, deadlineMs);
      const settled = (): void => {
        clearTimeout(timer);
      };
      this.#pending.set(id, {
        resolve: (value) => {
          settled();
          resolve(value);
        },
        reject: (error) => {
          settled();
          reject(error);
        },
      });
      worker.postMessage({ ...request, id });
    });
  }
}
