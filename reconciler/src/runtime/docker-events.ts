import { StringDecoder } from 'node:string_decoder';
import type Docker from 'dockerode';
import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import { LABEL, type RuntimeEvent } from './proxy-runtime.js';

/** Actions of a container that mean its proxy may be gone. */
const ACTIONS = ['die', 'destroy', 'kill', 'oom', 'stop'];
const REOPEN_AFTER_ERROR_MS = 5000;
const REOPEN_AFTER_END_MS = 1000;
/** A line longer than this is not an engine event: it is dropped, not buffered for ever. */
const MAX_LINE_BYTES = 1024 * 1024;

/**
 * Docker events of this instance's containers (a container died, was killed or removed): each is
 * reported. The stream is reopened after an error or its end, so a restarted engine is followed; each
 * opening asks for the events since the watch began or the last stream ended (`since`, whole seconds),
 * so none is lost while no stream was open (one seen twice only causes one more pass).
 * Events arrive as JSON lines that a chunk may split anywhere; a malformed line is logged and skipped.
 */
export function watchDockerEvents(
  docker: Docker,
  instance: string,
  onEvent: (event: RuntimeEvent) => void,
  log: Logger,
): () => void {
  const filters = {
    type: ['container'],
    event: ACTIONS,
    label: [`${LABEL.managed}=true`, `${LABEL.instance}=${instance}`],
  };
  return followDockerEvents(docker, filters, onEvent, log);
}

/** The engine's events that match `filters` (Docker's event filters), followed as watchDockerEvents describes. */
export function followDockerEvents(
  docker: Docker,
  filters: Readonly<Record<string, string[]>>,
  onEvent: (event: RuntimeEvent) => void,
  log: Logger,
): () => void {
  let stopped = false;
  let stream: NodeJS.ReadableStream | undefined;
  let reopen: NodeJS.Timeout | undefined;
  let since = nowSeconds();
  const later = (ms: number): void => {
    if (stopped) return;
    since = nowSeconds();
    reopen = setTimeout(open, ms);
  };
  const open = (): void => {
    docker.getEvents(
      {
        since,
        filters,
      },
      (error, events) => {
        if (stopped) {
          destroy(events);
          return;
        }
        if (error || !events) {
          log.warn('docker events unavailable, retrying in 5 s', { error: errorMessage(error) });
          later(REOPEN_AFTER_ERROR_MS);
          return;
        }
        stream = events;
        const lines = new LineSplitter(MAX_LINE_BYTES);
        events.on('data', (chunk: Buffer) => {
          for (const line of lines.push(chunk)) {
            const event = parseEvent(line);
            if (event) onEvent(event);
            else log.warn('ignoring a docker event that is not a JSON event object', { bytes: line.length });
          }
        });
        // An engine that stops ends the stream ('end'), or breaks it ('error', then 'close'): reopen once.
        let over = false;
        const reopenOnce = (): void => {
          if (over) return;
          over = true;
          later(REOPEN_AFTER_END_MS);
        };
        events.on('end', reopenOnce);
        events.on('close', reopenOnce);
        events.on('error', (streamError: unknown) => {
          log.debug('docker events stream failed', { error: errorMessage(streamError) });
        });
      },
    );
  };
  open();
  return () => {
    stopped = true;
    clearTimeout(reopen);
    destroy(stream);
  };
}

/** One event line → the event, or undefined when it is not a JSON object. */
export function parseEvent(line: string): RuntimeEvent | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const event = value as { Type?: unknown; Action?: unknown; Actor?: { Attributes?: Record<string, unknown> } };
  const attributes = event.Actor?.Attributes;
  const label = attributes?.[LABEL.proxy];
  // A swarm service's events carry its name, not its labels: `torfleet-<proxy>`.
  const name = event.Type === 'service' ? attributes?.name : undefined;
  const proxy =
    typeof label === 'string'
      ? label
      : typeof name === 'string' && name.startsWith('torfleet-')
        ? name.slice('torfleet-'.length)
        : null;
  return { action: typeof event.Action === 'string' ? event.Action : 'event', proxy };
}

/** Complete non-empty lines from chunks split anywhere (even inside a character); an overlong partial line is dropped. */
class LineSplitter {
  private partial = '';
  private readonly decoder = new StringDecoder('utf8');
  constructor(private readonly maxBytes: number) {}

  push(chunk: Buffer): string[] {
    const lines = (this.partial + this.decoder.write(chunk)).split('\n');
    this.partial = lines.pop() ?? '';
    if (this.partial.length > this.maxBytes) this.partial = '';
    return lines.map((line) => line.trim()).filter(Boolean);
  }
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

function destroy(stream: NodeJS.ReadableStream | undefined): void {
  (stream as unknown as { destroy?: () => void } | undefined)?.destroy?.();
}
