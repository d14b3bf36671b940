import { performance } from 'node:perf_hooks';
import { BrokerError } from './errors.js';
import { batchPayload, FEEDBACK_BATCH, FeedbackBuffer, toWireEvent } from './feedback-buffer.js';
import type { Counters } from './stats.js';

/** A batch over this many bytes is sent gzip. */
const GZIP_OVER = 8192;

export interface FeedbackSenderSettings {
  readonly capacity: number;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly clientId: string | undefined;
  readonly counters: Counters;
  /** Sends one batch (JSON) to the service; throws BrokerError when refused, anything else when it is away. */
  readonly send: (payload: Buffer, deadline: number, gzip: boolean) => Promise<unknown>;
}

/**
 * Feedback that never blocks the caller: events are checked and queued (a bounded buffer; full = dropped and
 * counted), and a timer sends them in batches (at most 1000 events and 1 MiB) every interval, or at once when
 * 1000 are waiting. A batch that cannot be sent goes back in front while there is room; one the service refuses
 * is counted `feedbackRejected`.
 */
export class FeedbackSender {
  readonly #buffer: FeedbackBuffer;
  readonly #timer: NodeJS.Timeout;
  #flushing: Promise<void> | null = null;
  #closed = false;

  constructor(private readonly settings: FeedbackSenderSettings) {
    this.#buffer = new FeedbackBuffer(settings.capacity);
    this.#timer = setInterval(() => {
      this.#tick();
    }, settings.intervalMs);
    this.#timer.unref();
  }

  get pending(): number {
    return this.#buffer.length;
  }

  add(event: unknown): void {
    const counters = this.settings.counters;
    try {
      const wire = toWireEvent(event);
      if (typeof wire === 'string') {
        counters.feedbackInvalid += 1;
        return;
      }
      wire.timestamp ??= Date.now();
      if (this.settings.clientId !== undefined) wire.client_id ??= this.settings.clientId;
      if (this.#closed || !this.#buffer.push(JSON.stringify(wire))) {
        counters.feedbackDropped += 1;
        return;
      }
      counters.feedbackQueued += 1;
      if (this.#buffer.length % FEEDBACK_BATCH === 0)
        setImmediate(() => {
          this.#tick();
        }).unref();
    } catch {
      counters.feedbackDropped += 1; // never throw into the caller
    }
  }

  /** Stops the timer, waits for a flush under way, sends what is left by `deadline`; the rest is counted dropped. */
  async close(deadline: number): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    if (this.#flushing) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        this.#flushing,
        new Promise((resolve) => (timer = setTimeout(resolve, Math.max(0, deadline - performance.now())))),
      ]);
      clearTimeout(timer);
    }
    await this.#flush(deadline, true);
  }

  #tick(): void {
    if (this.#closed || this.#flushing || this.#buffer.length === 0) return;
    this.#flushing = this.#flush(performance.now() + this.settings.timeoutMs, false).finally(() => {
      this.#flushing = null;
    });
  }

  async #flush(deadline: number, final: boolean): Promise<void> {
    const counters = this.settings.counters;
    while (this.#buffer.length > 0) {
      const batch = this.#buffer.take();
      const payload = Buffer.from(batchPayload(batch));
      try {
        await this.settings.send(payload, deadline, payload.length > GZIP_OVER);
      } catch (error) {
        if (error instanceof BrokerError) {
          counters.feedbackRejected += batch.length;
          continue;
        }
        // The service is away: back in front while there is room; once closing, nothing more is waited for.
        const last = final || this.#closed;
        const kept = last ? 0 : this.#buffer.putBack(batch);
        counters.feedbackDropped += batch.length - kept + (last ? this.#buffer.drain().length : 0);
        return;
      }
      counters.feedbackBatches += 1;
      counters.feedbackSent += batch.length;
    }
  }
}
